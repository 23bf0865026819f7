"""`hajiri enrol --photos DIR --out GALLERY`: build the encrypted gallery from photos/<person_id>/*.jpg."""

import argparse
import json
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--photos", type=Path, required=True,
                        help="one sub-folder of photos per person id (+ optional names.csv: person_id,name)")
    parser.add_argument("--out", type=Path, required=True, help="the encrypted gallery file to write")
    parser.add_argument("--key", type=Path, default=None,
                        help="AES-256 key file (created 0600 when absent; default: <out>.key)")
    parser.add_argument("--score-threshold", type=float, default=0.8, help="face detector score threshold")


def run(args: argparse.Namespace) -> int:
    from edge_models.opencv_runtime import Detector, Embedder
    from edge_models.registry import ModelError
    from kiosk.gallery import GalleryError, build_gallery

    try:
        gallery, report = build_gallery(args.photos, Detector(score_threshold=args.score_threshold), Embedder())
        if len(gallery) == 0:
            print(json.dumps({"gallery": None, **report.to_dict()}))
            print(f"hajiri enrol: no usable photo in {args.photos}; nothing written", file=sys.stderr)
            return 2
        gallery.save(args.out, args.key)
    except (GalleryError, ModelError) as e:
        print(f"hajiri enrol: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"gallery": str(args.out), **report.to_dict()}))
    return 0
