"""Fit the liveness fusion (logistic regression on cue logits) on the TUNE data list; writes liveness_weights.json.

Run: .venv/bin/python -m edge_models.fit_liveness [--shared-data ../shared/data]. Prints the file's sha256, which
goes into kiosk/liveness/fusion.py WEIGHTS_SHA256. The data list (edge_models/liveness_data.txt) names every
training item; the report splits (replay_a's later files, lfw_dev people, smoke/) are never read here."""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA_LIST = HERE / "liveness_data.txt"
OUT = HERE / "liveness_weights.json"
TARGET_BPCER = 0.03  # the threshold keeps at most this share of TUNE live faces from being called spoof


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


def features(shared: Path, items: list[tuple[str, int, str]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from edge_models.opencv_runtime import Detector, read_image
    from kiosk.liveness.attacks import attack_still
    from kiosk.liveness.cues import CUES, frame_cues
    from kiosk.liveness.faces import find_face
    from kiosk.liveness.fusion import logit

    detector = Detector()
    x, y, groups = [], [], []
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
    return np.array(x), np.array(y, float), groups


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


def main(argv: list[str] | None = None) -> int:
    from kiosk.liveness.cues import CUES

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared-data", type=Path, default=HERE.parents[1] / "shared" / "data")
    ap.add_argument("--reuse", action="store_true", help="reuse the features cached by the last run (/tmp)")
    args = ap.parse_args(argv)
    items = tune_items(args.shared_data)
    DATA_LIST.write_text("# path (relative to shared/data)\tlabel (1 live, 0 spoof)\thow\n"
                         + "".join(f"{r}\t{lab}\t{how}\n" for r, lab, how in items))
    cache = Path("/tmp/liveness_fit_cache.npz")
    if args.reuse and cache.exists():
        z = np.load(cache)
        x, y, groups = z["x"], z["y"], list(z["g"])
    else:
        x, y, groups = features(args.shared_data, items)
        np.savez(cache, x=x, y=y, g=np.array(groups))
    # replay_a and CelebA count equally, whatever their sizes.
    is_ra = np.array([g == "replay_a" for g in groups])
    w = np.where(is_ra, 0.5 / max(is_ra.sum(), 1), 0.5 / max((~is_ra).sum(), 1)) * len(y)
    beta = fit_logistic(x, y, w)
    z = np.hstack([np.ones((len(x), 1)), x]) @ beta
    scores = 1.0 / (1.0 + np.exp(-z))
    threshold = float(np.quantile(scores[y == 1], TARGET_BPCER))
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
