"""Measure the SFace cosine threshold and margin the kiosk ships with (edge_models/thresholds.json).

`calibrate_pairs` and `calibrate_all_pairs` re-measure them (python -m model_lab.thresholds
../shared/data/faces/lfw_dev [../shared/data/faces/celeba_dev]). Calibrate on one set (LFW) and check
identification on another (CelebA): a threshold checked on its own tuning set proves nothing.
"""

import csv
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edge_models.opencv_runtime import MODEL_VERSION, BadFrame, Detector, Embedder, read_image
from edge_models.thresholds import match_margin
from model_lab.evaluation.labelled import load_identities
from model_lab.evaluation.photos import central_face


@dataclass(frozen=True)
class Calibration:
    """A threshold picked for a target false-accept rate on a labelled pair set, with what it achieved there."""

    dataset: str
    model_version: str
    n_pairs: int
    n_same: int
    n_different: int
    n_unusable: int  # pairs dropped because a photo had no detectable face
    target_far: float
    threshold: float
    far: float
    tar: float
    false_accepts: int


def threshold_for_far(same: np.ndarray, different: np.ndarray, target_far: float) -> tuple[float, float, float]:
    """Smallest threshold (accept when score >= threshold) whose FAR on `different` is <= target_far.

    Returns (threshold, far, tar). With n impostor pairs FAR can only be resolved to 1/n; the caller records n.
    """
    different = np.sort(np.asarray(different, np.float64))[::-1]
    allowed = int(np.floor(target_far * len(different)))  # false accepts we may keep
    # Just above the (allowed+1)-th highest impostor score: that one and all below are rejected.
    if allowed >= len(different):
        threshold = float(different[-1])
    else:
        threshold = float(np.nextafter(different[allowed], np.inf))
    far = float(np.mean(different >= threshold))
    tar = float(np.mean(np.asarray(same) >= threshold))
    return threshold, far, tar


def embed_photos(dataset_dir: Path, rels: list[str], pick: str = "central") -> dict[str, np.ndarray | None]:
    """SFace embedding of the central (or largest) face of each photo (None: unreadable or no face)."""
    detector, embedder = Detector(score_threshold=0.6), Embedder()
    out: dict[str, np.ndarray | None] = {}
    for rel in dict.fromkeys(rels):
        try:
            image = read_image(dataset_dir / rel)
        except BadFrame:
            out[rel] = None
            continue
        faces = detector.detect(image)
        face = (central_face(faces, image.shape[1], image.shape[0]) if pick == "central"
                else max(faces, key=lambda f: f.size, default=None))
        out[rel] = None if face is None else embedder.embed_face(image, face)
    return out


def _calibration(dataset: str, same: list[float], different: list[float], n_pairs: int, unusable: int,
                 target_far: float) -> Calibration:
    s, d = np.array(same), np.array(different)
    threshold, _, _ = threshold_for_far(s, d, target_far)
    threshold = math.ceil(threshold * 1e4) / 1e4  # round up: the shipped value must not accept more than measured
    far, tar = float(np.mean(d >= threshold)), float(np.mean(s >= threshold))
    return Calibration(dataset=dataset, model_version=MODEL_VERSION, n_pairs=n_pairs, n_same=len(s),
                       n_different=len(d), n_unusable=unusable, target_far=target_far, threshold=threshold,
                       far=far, tar=tar, false_accepts=int(np.sum(d >= threshold)))


def calibrate_pairs(dataset_dir: Path, target_far: float = 1e-3) -> Calibration:
    """1:1 verification threshold on `pairs.csv` (image_a, image_b, same) for a target FAR."""
    dataset_dir = Path(dataset_dir)
    with open(dataset_dir / "pairs.csv", newline="") as f:
        pairs = [(r["image_a"], r["image_b"], r["same"] == "1") for r in csv.DictReader(f)]
    emb = embed_photos(dataset_dir, [p for a, b, _ in pairs for p in (a, b)])
    same, different, unusable = [], [], 0
    for a, b, is_same in pairs:
        ea, eb = emb[a], emb[b]
        if ea is None or eb is None:
            unusable += 1
            continue
        (same if is_same else different).append(float(ea @ eb))
    return _calibration(f"{dataset_dir.name}/pairs.csv", same, different, len(pairs), unusable, target_far)


def calibrate_all_pairs(dataset_dir: Path, target_far: float = 1e-5) -> Calibration:
    """Threshold over every pair of photos in `labels.csv` (image, identity).

    1:N search compares a probe with every template, so a stranger's false-accept chance grows roughly with
    the gallery size: the kiosk needs a per-comparison FAR far below 1e-3, which 1,500 listed pairs cannot resolve.
    """
    dataset_dir = Path(dataset_dir)
    with open(dataset_dir / "labels.csv", newline="") as f:
        labels = [(r["image"], r["identity"]) for r in csv.DictReader(f)]
    emb = embed_photos(dataset_dir, [rel for rel, _ in labels])
    usable = [(emb[rel], ident) for rel, ident in labels if emb[rel] is not None]
    matrix = np.stack([e for e, _ in usable])
    idents = np.array([i for _, i in usable])
    scores = matrix @ matrix.T
    upper = np.triu(np.ones_like(scores, bool), k=1)
    same_mask = idents[:, None] == idents[None, :]
    same, different = scores[upper & same_mask], scores[upper & ~same_mask]
    n = len(labels)
    return _calibration(f"{dataset_dir.name}/labels.csv (all pairs)", same.tolist(), different.tolist(),
                        n * (n - 1) // 2, n - len(usable), target_far)


def check_identification(dataset_dir: Path, threshold: float, margin: float, enrolled_people: int = 40,
                         templates_per_person: int = 3) -> dict:
    """1:N check on a set NOT used for calibration: enrol the first photos of the first people (sorted ids),
    probe with their other photos, and with every photo of the remaining people (strangers, never enrolled)."""
    dataset_dir = Path(dataset_dir)

    by_person = load_identities(dataset_dir)
    ids = sorted(by_person)
    enrolled = ids[:enrolled_people]
    emb = embed_photos(dataset_dir, [rel for p in ids for rel in by_person[p]], pick="largest")
    rows = [(p, emb[rel]) for p in enrolled for rel in by_person[p][:templates_per_person] if emb[rel] is not None]
    people = sorted({p for p, _ in rows})
    matrix = np.stack([e for _, e in rows])
    row_person = np.array([people.index(p) for p, _ in rows])
    correct = wrong = genuine = stranger_accepts = strangers = 0
    for p in ids:
        probes = by_person[p][templates_per_person:] if p in enrolled else by_person[p]
        for rel in probes:
            if emb[rel] is None:
                continue
            best = np.full(len(people), -np.inf)
            np.maximum.at(best, row_person, matrix @ emb[rel])
            top = np.argsort(best)[::-1][:2]
            accepted = best[top[0]] >= threshold and best[top[0]] - best[top[1]] >= margin
            if p in enrolled:
                genuine += 1
                correct += int(accepted and people[top[0]] == p)
                wrong += int(accepted and people[top[0]] != p)
            else:
                strangers += 1
                stranger_accepts += int(accepted)
    return {"dataset": f"{dataset_dir.name}/labels.csv", "enrolled_people": len(people),
            "templates": len(rows), "genuine_probes": genuine, "stranger_probes": strangers,
            "tar": correct / genuine, "misidentified": wrong / genuine,
            "stranger_accept_rate": stranger_accepts / strangers,
            "probes": "single photos (the kiosk averages frames)"}


def main(argv: list[str]) -> None:
    """python -m model_lab.thresholds <lfw_dev> [<celeba_dev>]: prints JSON to put in thresholds.json."""
    lfw = Path(argv[0])
    pairs, all_pairs = calibrate_pairs(lfw), calibrate_all_pairs(lfw)
    out = {"pairs_far_1e-3": asdict(pairs), "all_pairs_far_1e-5": asdict(all_pairs)}
    if len(argv) > 1:
        out["check"] = check_identification(Path(argv[1]), all_pairs.threshold, match_margin())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
