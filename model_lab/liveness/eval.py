"""`python -m model_lab.liveness.eval --live DIR --spoof DIR`: APCER/BPCER/ACER at the shipped threshold, as JSON."""

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from edge_models.liveness.cues import CUES, EXPERIMENTAL, experimental_cues, frame_cues
from edge_models.liveness.faces import find_face
from edge_models.liveness.fusion import Fusion, load_fusion
from edge_models.opencv_runtime import BadFrame, Detector, read_image

log = logging.getLogger("hajiri.liveness.eval")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".webp"}


def image_files(folder: Path) -> list[Path]:
    """Every image file under `folder` (recursive, sorted); a missing folder is an error, not zero images."""
    if not folder.is_dir():
        raise SystemExit(f"liveness eval: {folder} is not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def score_folder(files: list[Path], detector: Detector, fusion: Fusion) -> dict:
    """Per image: fused score and cue scores; counts unreadable images and images with no face."""
    scores, cues, failed, unreadable, ms = [], {c: [] for c in CUES + EXPERIMENTAL}, 0, 0, []
    for path in files:
        try:
            image = read_image(path)
        except BadFrame as e:
            log.warning("skipped: %s", e)
            unreadable += 1
            continue
        start = time.perf_counter()
        found = find_face(detector, image)
        if found is None:
            failed += 1
            continue
        c = frame_cues(found.image, found.face.box, found.valid)
        scores.append(fusion.score(c))
        ms.append((time.perf_counter() - start) * 1000.0)
        # Experimental cues are measured outside the timed part: the kiosk does not run them.
        c |= experimental_cues(found.image, found.face.box)
        for k in CUES + EXPERIMENTAL:
            cues[k].append(c[k])
    return {"scores": np.array(scores), "cues": {k: np.array(v) for k, v in cues.items()}, "failed": failed,
            "unreadable": unreadable, "ms": ms}


def equal_error_rate(live: np.ndarray, spoof: np.ndarray) -> float:
    """The EER of one score (higher = live): how well the cue separates the two sets at its best threshold."""
    if not len(live) or not len(spoof):
        return float("nan")
    best = 1.0
    for t in np.unique(np.concatenate([live, spoof])):
        best = min(best, max(float(np.mean(live < t)), float(np.mean(spoof >= t))))
    return best


def evaluate(live_dir: Path, spoof_dir: Path, fusion: Fusion | None = None) -> dict:
    """ISO/IEC 30107-3: APCER = attacks accepted as live; BPCER = live rejected; ACER = their mean. An image
    with no face found is counted in failed_to_detect and left out of the rates (it could not be attended)."""
    fusion = fusion or load_fusion()
    detector = Detector()
    live = score_folder(image_files(live_dir), detector, fusion)
    spoof = score_folder(image_files(spoof_dir), detector, fusion)
    t = fusion.threshold

    def cue_figures(names: tuple[str, ...]) -> dict:
        return {c: {"eer": round(equal_error_rate(live["cues"][c], spoof["cues"][c]), 4),
                    "live_median": round(float(np.median(live["cues"][c])), 3) if live["scores"].size else None,
                    "spoof_median": round(float(np.median(spoof["cues"][c])), 3) if spoof["scores"].size else None}
                for c in names}

    apcer = float(np.mean(spoof["scores"] >= t)) if len(spoof["scores"]) else float("nan")
    bpcer = float(np.mean(live["scores"] < t)) if len(live["scores"]) else float("nan")
    ms = live["ms"] + spoof["ms"]
    return {"live": len(live["scores"]), "spoof": len(spoof["scores"]), "apcer": round(apcer, 4),
            "bpcer": round(bpcer, 4), "acer": round((apcer + bpcer) / 2, 4), "threshold": t,
            "failed_to_detect": {"live": live["failed"], "spoof": spoof["failed"]},
            "unreadable": {"live": live["unreadable"], "spoof": spoof["unreadable"]},
            "ms_per_image": round(float(np.mean(ms)), 2) if ms else None,
            "eer": round(equal_error_rate(live["scores"], spoof["scores"]), 4),
            "cues": cue_figures(CUES),
            "experimental_cues": cue_figures(EXPERIMENTAL),  # measured, not fused (README, Liveness)
            "note": "single images: the track planarity cue is not used (neutral)"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_lab.liveness.eval", description=__doc__)
    ap.add_argument("--live", type=Path, required=True, help="folder of live faces (crops or whole frames)")
    ap.add_argument("--spoof", type=Path, required=True, help="folder of presentation attacks")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    print(json.dumps(evaluate(args.live, args.spoof)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
