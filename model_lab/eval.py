"""Face recognition accuracy on labelled photos: `verify` (1:1 pairs) and `identify` (1:N with strangers).

    python -m model_lab.eval verify --pairs FILE --root DIR [--detector yunet|blazeface|blazeface_short]
        [--runtime opencv|litert] [--flip]
    python -m model_lab.eval identify --root DIR --enrol-per-id K --unknown-fraction F [--seed S] [--flip]
        [--detector ...] [--runtime ...]

Each prints one JSON object as its last stdout line. Every photo is embedded once per run (central face for
verify: LFW photos are centred on their subject; largest face for identify). A photo in which no face is found
(`failed_to_detect`) makes its pair wrong at every threshold in `accuracy`, and counts as "nothing accepted"
in the rate metrics (a false reject for a same-person pair or mated probe). `fixed_threshold` is the cosine
threshold the kiosk ships with (edge_models/thresholds.json); thresholds chosen on the data are never fed
back.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from edge_models import runtimes, thresholds
from model_lab.evaluation.labelled import load_identities, split_identities
from model_lab.evaluation.metrics import (
    accuracy_at,
    fnir_at_fpir,
    kfold_accuracy,
    random_folds,
    tar_at_far,
)
from model_lab.evaluation.pairs import PairsFormatError, read_pairs
from model_lab.evaluation.photos import DETECTORS, RUNTIMES, EvalError, PhotoEmbeddings

CV_FOLDS = 10


def shipped_threshold(model_version: str) -> tuple[float, float]:
    """(match threshold, margin) from the registry for this model version; EvalError when it has none."""
    shipped = thresholds.shipped()
    # Both SFace runtimes give the same embeddings (tests/edge_models/test_tflite_sface.py): one threshold.
    if not runtimes.shares_embeddings(model_version, str(shipped.get("model_version"))):
        raise EvalError(f"edge_models/thresholds.json holds thresholds for {shipped.get('model_version')}, "
                        f"not {model_version}; give --fixed-threshold")
    return thresholds.match_threshold(), thresholds.match_margin()


def _fixed(args: argparse.Namespace, photos: PhotoEmbeddings) -> tuple[float, float, str]:
    if args.fixed_threshold is not None:
        return args.fixed_threshold, thresholds.match_margin(), "--fixed-threshold"
    threshold, margin = shipped_threshold(photos.model_version)
    calibrated = thresholds.shipped()["model_version"]
    note = "" if calibrated == photos.model_version else f" (calibrated with {calibrated})"
    return threshold, margin, "edge_models/thresholds.json" + note


def _photos(args: argparse.Namespace, pick: str) -> PhotoEmbeddings:
    return PhotoEmbeddings(Path(args.root), args.detector, args.runtime, pick=pick, flip=args.flip,
                           detect_score=args.detect_score)


def run_verify(args: argparse.Namespace) -> dict:
    """1:1 verification over a pair list (LFW pairs.txt with folds, or CSV)."""
    pairs = read_pairs(args.pairs)
    photos = _photos(args, "central")
    photos.check_exist([p for pair in pairs for p in (pair.image_a, pair.image_b)])
    fixed, _, source = _fixed(args, photos)
    scores = np.full(len(pairs), np.nan)
    for k, pair in enumerate(pairs):
        a, b = photos.get(pair.image_a), photos.get(pair.image_b)
        if a is not None and b is not None:
            scores[k] = float(a @ b)
    same = np.array([p.same for p in pairs])
    if all(p.fold is not None for p in pairs) and len({p.fold for p in pairs}) > 1:
        folds = np.array([p.fold for p in pairs])
        protocol = f"{len(set(folds.tolist()))}-fold (the file's folds): threshold chosen on the other folds"
    else:
        folds = random_folds(same, CV_FOLDS, args.seed)
        protocol = (f"{CV_FOLDS}-fold cross-validation over random stratified folds (seed {args.seed}): "
                    "threshold chosen on 9 folds, accuracy on the 10th")
    accuracy, accuracy_std, fold_thresholds = kfold_accuracy(scores, same, folds)
    # LFW's folds hold as many same as different pairs; on an unbalanced list plain accuracy mostly counts
    # the different pairs, so the class-balanced figure is given too.
    balanced, balanced_std, _ = kfold_accuracy(scores, same, folds, balanced=True)
    tar, far_threshold = tar_at_far(scores, same, 1e-3)
    with np.errstate(invalid="ignore"):
        accepted = scores >= fixed
    return {
        "command": "verify", "dataset": str(args.pairs), "protocol": protocol,
        "detector": args.detector, "runtime": args.runtime, "model_version": photos.model_version,
        "flip": args.flip, "pairs": len(pairs),
        "same_pairs": int(same.sum()), "different_pairs": int((~same).sum()),
        "accuracy": accuracy, "accuracy_std": accuracy_std,
        "accuracy_balanced": balanced, "accuracy_balanced_std": balanced_std,
        "fold_threshold_mean": float(np.mean(fold_thresholds)),
        "fixed_threshold": fixed, "fixed_threshold_source": source,
        "fixed_threshold_accuracy": accuracy_at(scores, same, fixed),
        "fixed_threshold_accuracy_balanced": accuracy_at(scores, same, fixed, balanced=True),
        "fixed_threshold_tar": float(np.mean(accepted[same])) if same.any() else None,
        "fixed_threshold_far": float(np.mean(accepted[~same])) if (~same).any() else None,
        "tar_at_far_1e-3": tar, "threshold_at_far_1e-3": far_threshold,
        "far_resolution": 1.0 / max(int((~same).sum()), 1),
        "images": len(photos.cache), "failed_to_detect": len(photos.no_face),
        "unreadable": len(photos.unreadable), "failed_pairs": int(np.isnan(scores).sum()), "ms_per_image": photos.ms_per_image(),
    }


def _gallery(split, photos: PhotoEmbeddings, templates: str):
    """Gallery of the enrolled identities (ids mapped to safe person ids); returns it and the id mapping."""
    from kiosk.gallery import Gallery

    gallery, person_of = Gallery(photos.model_version), {}
    for n, (identity, rels) in enumerate(split.enrol.items()):
        embeddings = [e for e in (photos.get(rel) for rel in rels) if e is not None]
        if not embeddings:
            continue  # failed to enrol: this person's probes stay mated probes and count as misses
        pid = f"id-{n:06d}"
        person_of[pid] = identity
        matrix = np.stack(embeddings)
        if templates == "mean":
            matrix = matrix.mean(axis=0, keepdims=True)
        gallery.add_many([pid] * len(matrix), matrix, {pid: identity})
    return gallery.freeze(), person_of


def run_identify(args: argparse.Namespace, photos: PhotoEmbeddings | None = None) -> dict:
    """1:N identification with never-enrolled strangers (`photos`: reuse embeddings across runs, e.g. seeds)."""
    by_id = load_identities(args.root)
    split = split_identities(by_id, args.enrol_per_id, args.unknown_fraction, args.seed)
    photos = photos or _photos(args, "largest")
    photos.check_exist([rel for rels in by_id.values() for rel in rels])
    fixed, margin, source = _fixed(args, photos)
    gallery, person_of = _gallery(split, photos, args.templates)

    def probe(rels: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
        """Best score, its lead over the runner-up, whether the best person is right, and ms per probe."""
        scores, margins, who, ms = np.full(len(rels), np.nan), np.full(len(rels), np.nan), [], []
        for k, (_, rel) in enumerate(rels):
            e = photos.get(rel)
            if e is None:
                who.append(None)
                continue
            start = time.perf_counter()
            m = gallery.search(e)
            ms.append(photos.ms_by_photo[rel] + (time.perf_counter() - start) * 1000)
            scores[k], margins[k] = m.score, m.margin
            who.append(person_of.get(m.person_id))
        correct = np.array([w == identity for w, (identity, _) in zip(who, rels, strict=True)], bool)
        return scores, margins, correct, ms

    m_scores, m_margins, m_correct, m_ms = probe(split.mated)
    n_scores, n_margins, _, n_ms = probe(split.nonmated)
    fnir2, th2 = fnir_at_fpir(m_scores, m_correct, n_scores, 1e-2)
    fnir3, th3 = fnir_at_fpir(m_scores, m_correct, n_scores, 1e-3)
    with np.errstate(invalid="ignore"):
        m_accept = (m_scores >= fixed) & (m_margins >= margin)
        n_accept = (n_scores >= fixed) & (n_margins >= margin)
    ms = m_ms + n_ms
    return {
        "command": "identify", "dataset": str(args.root), "detector": args.detector, "runtime": args.runtime,
        "model_version": photos.model_version, "flip": args.flip, "templates": args.templates,
        "seed": args.seed, "enrol_per_id": args.enrol_per_id, "unknown_fraction": args.unknown_fraction,
        "protocol": ("identities with more than K photos: a fraction F held out as strangers, the rest "
                     "enrolled with K random photos and probed with the others; identities with K or fewer "
                     "photos are strangers too"),
        "ids_enrolled": len(person_of), "ids_enrol_failed": len(split.enrol) - len(person_of),
        "templates_enrolled": len(gallery),
        "stranger_ids": len(split.held_out) + len(split.too_few),
        "stranger_ids_held_out": len(split.held_out),
        "mated_probes": len(split.mated), "nonmated_probes": len(split.nonmated),
        "rank1": float(np.mean(m_correct)) if len(m_correct) else None,
        "fnir_at_fpir_1e-2": fnir2, "threshold_at_fpir_1e-2": th2,
        "fnir_at_fpir_1e-3": fnir3, "threshold_at_fpir_1e-3": th3,
        "fpir_resolution": 1.0 / max(len(split.nonmated), 1),
        "fixed_threshold": fixed, "fixed_margin": margin, "fixed_threshold_source": source,
        "tpir_at_fixed": float(np.mean(m_accept & m_correct)) if len(m_correct) else None,
        "misidentified_at_fixed": float(np.mean(m_accept & ~m_correct)) if len(m_correct) else None,
        "fpir_at_fixed": float(np.mean(n_accept)) if len(n_accept) else None,
        "images": len(photos.cache), "failed_to_detect": len(photos.no_face),
        "unreadable": len(photos.unreadable), "ms_per_probe": float(np.mean(ms)) if ms else 0.0,
    }


def json_ready(result: dict) -> dict:
    """NaN/inf (undefined rates, e.g. no strangers) become null: the line must stay valid JSON."""
    def clean(v: object) -> object:
        if isinstance(v, float):
            return v if math.isfinite(v) else None
        return v
    return {k: clean(v) for k, v in result.items()}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model_lab.eval", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="1:1 accuracy on a pair list")
    verify.add_argument("--pairs", required=True, type=Path, help="LFW pairs.txt or CSV image_a,image_b,same")
    identify = sub.add_parser("identify", help="1:N rank-1 and FNIR at FPIR with strangers")
    identify.add_argument("--enrol-per-id", type=int, required=True)
    identify.add_argument("--unknown-fraction", type=float, required=True)
    identify.add_argument("--templates", choices=("all", "mean"), default="all",
                          help="several templates per person (max score) or one mean template")
    for p in (verify, identify):
        p.add_argument("--root", required=True, type=Path, help="folder the photo paths are relative to")
        p.add_argument("--detector", choices=sorted(DETECTORS), default="yunet")
        p.add_argument("--runtime", choices=sorted(RUNTIMES), default="opencv")
        p.add_argument("--flip", action="store_true", help="average each embedding with its mirror image's")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--detect-score", type=float, default=0.6,
                       help="detector score threshold (YuNet's or BlazeFace's own score scale)")
        fixed = p.add_mutually_exclusive_group()
        fixed.add_argument("--threshold-from-registry", action="store_true",
                           help="fixed threshold from edge_models/thresholds.json (the default)")
        fixed.add_argument("--fixed-threshold", type=float, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = run_verify(args) if args.command == "verify" else run_identify(args)
    except (EvalError, PairsFormatError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(json_ready(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
