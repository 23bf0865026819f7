"""Fit the liveness fusion (logistic regression on cue logits) on the TUNE data list; writes liveness_weights.json.

Run: .venv/bin/python -m model_lab.fit_liveness [--shared-data ../shared/data]. Prints the file's sha256, which
goes into edge_models/liveness/fusion.py WEIGHTS_SHA256. The data list (model_lab/liveness_data.txt) names every
training item; the report splits (replay_a's later files, lfw_dev people, smoke/) are never read here. `--cv`
writes nothing and prints the recipe's grouped 5-fold cross-validated figures on TUNE (CelebA folds by person,
replay_a folds by contiguous blocks of its sequence)."""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from edge_models.liveness.cues import CUES, frame_cues
from edge_models.liveness.faces import find_face
from edge_models.liveness.fusion import WEIGHTS_PATH, logit
from edge_models.opencv_runtime import Detector, read_image
from model_lab.liveness.attacks import attack_still

HERE = Path(__file__).resolve().parent
DATA_LIST = HERE / "liveness_data.txt"  # only the lab reads it; the weights name it and pin its sha256
OUT = WEIGHTS_PATH  # the kiosk loads the fitted weights from its models package
TARGET_BPCER = 0.03  # the threshold keeps at most this share of TUNE live faces from being called spoof
FOLDS = 5


def tune_items(shared: Path) -> list[tuple[str, int, str]]:
    """(path relative to shared data, label 1 live / 0 spoof, how: 'as-is' | 'print:seed' | 'replay:seed')."""
    items = []
    for sub, label, split in (("live", 1, 90), ("spoof", 0, 136)):
        files = sorted((shared / "liveness" / "replay_a" / sub).glob("*.jpg"), key=lambda p: int(p.stem))
        items += [(str(p.relative_to(shared)), label, "as-is") for p in files if int(p.stem) < split]
    celeba = sorted((shared / "faces" / "celeba_dev").glob("*/*.jpg"))[::2]
    for i, p in enumerate(celeba):
        rel = str(p.relative_to(shared))
        items += [(rel, 1, "as-is"), (rel, 0, f"{'print' if i % 2 else 'replay'}:{i}")]
    return items


def features(shared: Path, items: list[tuple[str, int, str]]) -> tuple[np.ndarray, np.ndarray, list[str],
                                                                   list[tuple[str, str]]]:
    """Cue logits, labels, source group and (path, how) of every item in which a face was found."""
    detector = Detector()
    x, y, groups, kept = [], [], [], []
    for rel, label, how in items:
        image = read_image(shared / rel)
        if how != "as-is":
            kind, seed = how.split(":")
            image = attack_still(image, kind, int(seed))
        found = find_face(detector, image)
        if found is None:
            continue
        cues = frame_cues(found.image, found.face.box, found.valid)
        x.append([logit(cues[c]) for c in CUES])
        y.append(label)
        groups.append(rel.split("/")[1])
        kept.append((rel, how))
    return np.array(x), np.array(y, float), groups, kept


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 0.01, steps: int = 50) -> np.ndarray:
    """Weighted L2 logistic regression by Newton's method (IRLS): returns [bias, weights...]."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(xb.shape[1])
    reg = l2 * np.diag(np.r_[0.0, np.ones(x.shape[1])])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-xb @ beta))
        grad = xb.T @ (w * (p - y)) / w.sum() + reg @ beta
        hess = (xb * (w * p * (1 - p))[:, None]).T @ xb / w.sum() + reg
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def fit_fusion(x: np.ndarray, y: np.ndarray, groups: list[str]) -> tuple[np.ndarray, float]:
    """The shipped recipe: [bias, weights...] and the threshold at TARGET_BPCER of the fitted live scores."""
    # replay_a and CelebA count equally, whatever their sizes.
    is_ra = np.array([g == "replay_a" for g in groups])
    w = np.where(is_ra, 0.5 / max(is_ra.sum(), 1), 0.5 / max((~is_ra).sum(), 1)) * len(y)
    beta = fit_logistic(x, y, w)
    return beta, float(np.quantile(fused(beta, x)[y == 1], TARGET_BPCER))


def fused(beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(np.hstack([np.ones((len(x), 1)), x]) @ beta)))


def fold_of(rel: str) -> int:
    """CelebA: by person (no one in two folds). replay_a: contiguous blocks of its TUNE part, so a fold is a
    stretch of the session, not frames interleaved with their neighbours."""
    parts = rel.split("/")
    if parts[1] == "replay_a":
        tune_len = 90 if parts[2] == "live" else 136
        return min(FOLDS - 1, int(Path(parts[-1]).stem) * FOLDS // tune_len)
    return int(parts[2]) % FOLDS


def cross_validate(x: np.ndarray, y: np.ndarray, groups: list[str], kept: list[tuple[str, str]]) -> dict:
    """Per held-out fold: fit, set the threshold on the training folds, and count errors on the held-out one."""
    folds = np.array([fold_of(rel) for rel, _ in kept])
    accepted = np.zeros(len(y), bool)
    for k in range(FOLDS):
        train, test = folds != k, folds == k
        beta, threshold = fit_fusion(x[train], y[train], [g for g, t in zip(groups, train, strict=True) if t])
        accepted[test] = fused(beta, x[test]) >= threshold
    is_ra = np.array([g == "replay_a" for g in groups])
    kind = np.array([how.split(":")[0] for _, how in kept])
    live, spoof = y == 1, y == 0

    def rate(mask: np.ndarray, accept: bool) -> dict:
        errors = accepted[mask] if accept else ~accepted[mask]
        return {"n": int(mask.sum()), "rate": round(float(np.mean(errors)), 4) if errors.size else None}

    return {"folds": FOLDS, "replay_a_apcer": rate(is_ra & spoof, True), "replay_a_bpcer": rate(is_ra & live, False),
            "celeba_bpcer": rate(~is_ra & live, False), "celeba_print_apcer": rate(kind == "print", True),
            "celeba_replay_apcer": rate(kind == "replay", True)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared-data", type=Path, default=HERE.parents[1] / "shared" / "data")
    ap.add_argument("--reuse", action="store_true", help="reuse the features cached by the last run (/tmp)")
    ap.add_argument("--cv", action="store_true", help="print cross-validated TUNE figures; write nothing")
    args = ap.parse_args(argv)
    items = tune_items(args.shared_data)
    if not args.cv:
        DATA_LIST.write_text("# path (relative to shared/data)\tlabel (1 live, 0 spoof)\thow\n"
                             + "".join(f"{r}\t{lab}\t{how}\n" for r, lab, how in items))
    cache = Path("/tmp/liveness_fit_cache.npz")
    if args.reuse and cache.exists() and "kept" in np.load(cache):
        z = np.load(cache)
        x, y, groups, kept = z["x"], z["y"], list(z["g"]), [tuple(k) for k in z["kept"]]
    else:
        x, y, groups, kept = features(args.shared_data, items)
        np.savez(cache, x=x, y=y, g=np.array(groups), kept=np.array(kept))
    if args.cv:
        print(json.dumps(cross_validate(x, y, groups, kept)))
        return 0
    beta, threshold = fit_fusion(x, y, groups)
    scores = fused(beta, x)
    out = {"bias": round(float(beta[0]), 4), "weights": {c: round(float(b), 4) for c, b in zip(CUES, beta[1:],
                                                                                               strict=True)},
           "threshold": round(threshold, 4), "target_bpcer_on_tune": TARGET_BPCER,
           "data_list": DATA_LIST.name,
           "data_list_sha256": hashlib.sha256(DATA_LIST.read_bytes()).hexdigest(),
           "tune_counts": {"live": int(y.sum()), "spoof": int(len(y) - y.sum())},
           "tune_apcer": round(float(np.mean(scores[y == 0] >= threshold)), 4)}
    OUT.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))
    print(f"sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
