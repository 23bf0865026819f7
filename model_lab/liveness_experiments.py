"""Measure candidate changes to the liveness fusion: cross-validated on TUNE, then (--report) once on the splits.

Run: .venv/bin/python -m model_lab.liveness_experiments [--report] [--shared-data ../shared/data]. Writes
nothing. Candidates: the moiré cue (edge_models.liveness.cues.moire_peak) as a fused input, small-face copies
of the CelebA TUNE images, and uniform LBP histograms of the Y, Cr and Cb channels (the colour-texture classic
of face anti-spoofing) as 30 extra inputs. Plus two transfer checks: a cue fitted on one source, scored on the
other. The README's Liveness section quotes its output; nothing here is shipped."""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from edge_models.liveness.cues import face_canon, frame_cues, moire_peak
from edge_models.liveness.faces import find_face
from edge_models.liveness.fusion import logit
from edge_models.opencv_runtime import Detector, read_image
from model_lab.fit_liveness import FOLDS, HERE, TARGET_BPCER, fit_logistic, fold_of, tune_items
from model_lab.liveness.attacks import attack_still

CUE_NAMES = ("colour", "texture", "border")
REPORT_SPLITS = (("replay_a later half", "ra_live", "ra_spoof"), ("lfw_dev -> simulated print", "lfw", "lfw_print"),
                 ("lfw_dev -> simulated replay", "lfw", "lfw_replay"))


def lbp_histogram(channel: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform LBP(8, 1): 10 bins (0-8 set bits of a uniform pattern, 9 = non-uniform)."""
    c = channel[1:-1, 1:-1]
    h, w = channel.shape
    offsets = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
    bits = [(channel[1 + dy: h - 1 + dy, 1 + dx: w - 1 + dx] >= c).astype(np.int32) for dy, dx in offsets]
    transitions = sum(np.abs(bits[i] - bits[(i + 1) % 8]) for i in range(8))
    code = np.where(transitions <= 2, sum(bits), 9)
    hist = np.bincount(code.ravel(), minlength=10).astype(np.float64)
    return hist / hist.sum()


def lbp_ycrcb(face: np.ndarray) -> np.ndarray:
    ycc = cv2.cvtColor(face, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    return np.log(np.concatenate([lbp_histogram(ycc[..., i]) for i in range(3)]) + 1e-3)


def jpeg(image: np.ndarray) -> np.ndarray:
    """As `python -m model_lab.liveness.attacks` writes its output (JPEG, OpenCV's default quality 95)."""
    return cv2.imdecode(cv2.imencode(".jpg", image)[1], cv2.IMREAD_COLOR)


def shrink_to_face(image: np.ndarray, detector, target_px: float) -> np.ndarray | None:
    """The image scaled down so its face is about target_px (0.9 x box side); None if already smaller."""
    found = find_face(detector, image)
    if found is None:
        return None
    s = target_px / (0.9 * max(found.face.box[2], found.face.box[3]))
    return cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else None


def describe(image: np.ndarray, detector) -> dict | None:
    found = find_face(detector, image)
    if found is None:
        return None
    box = found.face.box
    cues = frame_cues(found.image, box, found.valid)
    face = face_canon(found.image, box)
    return {"cues": [logit(cues[c]) for c in CUE_NAMES], "moire": moire_peak(face), "lbp": lbp_ycrcb(face)}


def collect(shared: Path, with_report: bool) -> list[dict]:
    """Every item with its features: TUNE (the shipped list), small-face copies of TUNE's CelebA images
    (faces 55-94 px: live, and a print or replay made from the same image), and optionally the report splits."""
    detector = Detector()
    rows = []

    def add(image, **meta) -> None:
        if image is not None and (f := describe(image, detector)) is not None:
            rows.append({**meta, **f})

    for rel, label, how in tune_items(shared):
        image = read_image(shared / rel)
        if how != "as-is":
            kind, seed = how.split(":")
            image = attack_still(image, kind, int(seed))
        add(image, rel=rel, label=label, kind=how.split(":")[0], part="tune", small=False)
    celeba = sorted((shared / "faces" / "celeba_dev").glob("*/*.jpg"))[::2]
    for i, path in enumerate(celeba):
        rel = str(path.relative_to(shared))
        kind = "replay" if i % 2 else "print"
        target = 55 + (i * 37 % 40)
        add(shrink_to_face(read_image(path), detector, target), rel=rel, label=1, kind="as-is", part="small",
            small=True)
        add(shrink_to_face(attack_still(read_image(path), kind, 1000 + i), detector, target), rel=rel, label=0,
            kind=kind, part="small", small=True)
    if not with_report:
        return rows
    for sub, label in (("live", 1), ("spoof", 0)):
        split = 90 if sub == "live" else 136
        for path in sorted((shared / "liveness" / "replay_a" / sub).glob("*.jpg"), key=lambda p: int(p.stem)):
            if int(path.stem) >= split:
                add(read_image(path), rel=str(path), label=label, kind="as-is", part=f"ra_{sub}", small=False)
    lfw = sorted((shared / "faces" / "lfw_dev").rglob("*.jpg"))[::10]
    for i, path in enumerate(lfw):
        image = read_image(path)
        add(image, rel=str(path), label=1, kind="as-is", part="lfw", small=False)
        for kind in ("print", "replay"):
            add(jpeg(attack_still(image, kind, i)), rel=str(path), label=0, kind=kind, part=f"lfw_{kind}",
                small=False)
    return rows


def inputs(rows: list[dict], extra: tuple[str, ...]) -> np.ndarray:
    cols = [np.array([r["cues"] for r in rows])]
    if "moire" in extra:
        cols.append(np.array([[r["moire"]] for r in rows]))
    if "lbp" in extra:
        cols.append(np.array([r["lbp"] for r in rows]))
    return np.hstack(cols)


def fit(rows: list[dict], extra: tuple[str, ...], l2: float):
    """The shipped recipe (sources weighted equally, threshold at TARGET_BPCER of its live) on these rows;
    extra inputs are standardised first. Returns a scoring function and the threshold."""
    x, y = inputs(rows, extra), np.array([r["label"] for r in rows], float)
    is_ra = np.array([r["rel"].startswith("liveness/") for r in rows])
    n_cues = len(CUE_NAMES)
    mu, sd = x.mean(0), x.std(0) + 1e-6
    mu[:n_cues], sd[:n_cues] = 0.0, 1.0  # the cue logits enter as the shipped fusion takes them
    w = np.where(is_ra, 0.5 / max(is_ra.sum(), 1), 0.5 / max((~is_ra).sum(), 1)) * len(y)
    beta = fit_logistic((x - mu) / sd, y, w, l2=l2)

    def score(other: list[dict]) -> np.ndarray:
        z = (inputs(other, extra) - mu) / sd
        return 1.0 / (1.0 + np.exp(-(np.hstack([np.ones((len(z), 1)), z]) @ beta)))

    return score, float(np.quantile(score(rows)[y == 1], TARGET_BPCER))


def rate(errors: np.ndarray) -> float:
    return round(float(np.mean(errors)) * 100, 1) if errors.size else float("nan")


def cross_validate(rows: list[dict], use_small: bool, extra: tuple[str, ...], l2: float) -> dict:
    """Grouped folds (fit_liveness.fold_of). The small-face copies are always scored, but fitted on only
    when `use_small`, so every candidate is measured on the same items."""
    folds = np.array([fold_of(r["rel"]) for r in rows])
    accepted = np.zeros(len(rows), bool)
    for k in range(FOLDS):
        train = [r for r, f in zip(rows, folds, strict=True) if f != k and (use_small or not r["small"])]
        score, threshold = fit(train, extra, l2)
        test = np.flatnonzero(folds == k)
        accepted[test] = score([rows[i] for i in test]) >= threshold
    y = np.array([r["label"] for r in rows])
    is_ra = np.array([r["rel"].startswith("liveness/") for r in rows])
    small = np.array([r["small"] for r in rows])
    kind = np.array([r["kind"] for r in rows])
    out = {"replay_a_apcer": rate(accepted[is_ra & (y == 0)]), "replay_a_bpcer": rate(~accepted[is_ra & (y == 1)]),
           "celeba_bpcer": rate(~accepted[~is_ra & ~small & (y == 1)]),
           "print_apcer": rate(accepted[~small & (kind == "print")]),
           "replay_apcer": rate(accepted[~small & (kind == "replay")])}
    out["small_face_bpcer"] = rate(~accepted[small & (y == 1)])
    out["small_face_apcer"] = rate(accepted[small & (y == 0)])
    return out


def report(train: list[dict], held_out: list[dict], extra: tuple[str, ...], l2: float) -> dict:
    score, threshold = fit(train, extra, l2)
    out = {"threshold": round(threshold, 4)}
    for name, live, spoof in REPORT_SPLITS:
        lv = score([r for r in held_out if r["part"] == live]) >= threshold
        sp = score([r for r in held_out if r["part"] == spoof]) >= threshold
        apcer, bpcer = rate(sp), rate(~lv)
        out[name] = {"apcer": apcer, "bpcer": bpcer, "acer": round((apcer + bpcer) / 2, 1), "n": [len(sp), len(lv)]}
    return out


def transfer(rows: list[dict]) -> dict:
    """The shipped cues, and LBP-YCrCb, fitted on one TUNE source only and scored on the other (another
    person and camera): does what they learn carry over?"""
    return {"shipped cues": transfer_one(rows, np.array([r["cues"] for r in rows]), 0.01),
            "LBP-YCrCb": transfer_one(rows, np.array([r["lbp"] for r in rows]), 0.05)}


def transfer_one(rows: list[dict], x: np.ndarray, l2: float) -> dict:
    is_ra = np.array([r["rel"].startswith("liveness/") for r in rows])
    y = np.array([r["label"] for r in rows])
    kind = np.array([r["kind"] for r in rows])
    out = {}
    for name, train in (("fit on replay_a, scored on CelebA", is_ra), ("fit on CelebA+simulator, scored on replay_a",
                                                                      ~is_ra)):
        mu, sd = x[train].mean(0), x[train].std(0) + 1e-6
        xs = np.hstack([np.ones((len(x), 1)), (x - mu) / sd])
        beta = fit_logistic(xs[train][:, 1:], y[train].astype(float), np.ones(int(train.sum())), l2=l2)
        s = 1.0 / (1.0 + np.exp(-(xs @ beta)))
        t = np.quantile(s[train & (y == 1)], TARGET_BPCER)
        test = ~train
        live, spoof = s[test & (y == 1)], s[test & (y == 0)]
        out[name] = {"bpcer": rate(live < t), "apcer": rate(spoof >= t),
                     "auc": round(float(np.mean(live[:, None] > spoof[None, :])), 3)}
        if name.startswith("fit on replay_a"):
            out[name] |= {"print_apcer": rate(s[test & (kind == "print")] >= t),
                          "replay_apcer": rate(s[test & (kind == "replay")] >= t)}
    return out


CANDIDATES = {"shipped recipe": (False, (), 0.01), "+ moire": (False, ("moire",), 0.01),
              "+ small-face copies": (True, (), 0.01), "+ LBP-YCrCb": (False, ("lbp",), 0.05),
              "+ moire + small-face copies": (True, ("moire",), 0.01)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared-data", type=Path, default=HERE.parents[1] / "shared" / "data")
    ap.add_argument("--report", action="store_true", help="also score the report splits (do this once, last)")
    args = ap.parse_args(argv)
    rows = collect(args.shared_data, args.report)
    tune = [r for r in rows if r["part"] == "tune"]
    tune_small = tune + [r for r in rows if r["part"] == "small"]
    held_out = [r for r in rows if r["part"] not in ("tune", "small")]
    result = {"cv": {}, "transfer": transfer(tune)}
    for name, (small, extra, l2) in CANDIDATES.items():
        result["cv"][name] = cross_validate(tune_small, small, extra, l2)
        if args.report:
            result.setdefault("report", {})[name] = report(tune_small if small else tune, held_out, extra, l2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
