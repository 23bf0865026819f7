"""Labelled photo sets for 1:N identification: labels.csv or one folder per identity, and the seeded split."""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_lab.evaluation.photos import EvalError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".webp"}


def load_identities(root: Path | str) -> dict[str, list[str]]:
    """identity -> photo paths relative to root: root/labels.csv (image,identity), else root/<identity>/*."""
    root = Path(root)
    if not root.is_dir():
        raise EvalError(f"data root {root} is not a folder")
    by_id: dict[str, list[str]] = {}
    labels = root / "labels.csv"
    if labels.is_file():
        with open(labels, newline="") as f:
            reader = csv.DictReader(f)
            if not {"image", "identity"} <= set(reader.fieldnames or []):
                raise EvalError(f"{labels}:1: header must name image,identity; got {reader.fieldnames}")
            for row in reader:
                image, identity = (row.get("image") or "").strip(), (row.get("identity") or "").strip()
                if not image or not identity:
                    raise EvalError(f"{labels}:{reader.line_num}: empty image or identity in {row}")
                by_id.setdefault(identity, []).append(image)
    else:
        for d in sorted(p for p in root.iterdir() if p.is_dir()):
            photos = sorted(p.name for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if photos:
                by_id[d.name] = [f"{d.name}/{name}" for name in photos]
    if not by_id:
        raise EvalError(f"{root}: no labels.csv and no identity folders with photos")
    return {identity: sorted(set(photos)) for identity, photos in sorted(by_id.items())}


@dataclass
class Split:
    """Who is enrolled with which photos; the probes: mated (enrolled people) and non-mated (strangers)."""

    enrol: dict[str, list[str]]
    mated: list[tuple[str, str]]  # (identity, photo)
    nonmated: list[tuple[str, str]]
    held_out: list[str]  # enrollable identities kept back as strangers
    too_few: list[str]  # identities with <= K photos: never enrollable, probed as strangers


def split_identities(by_id: dict[str, list[str]], enrol_per_id: int, unknown_fraction: float,
                     seed: int = 0) -> Split:
    """Of the identities with more than K photos, hold out round(F x count) as strangers (seeded) and enrol
    K random photos of each of the others, probing with their remaining photos. Identities with K or fewer
    photos cannot be enrolled and probed, so all their photos are stranger probes too (LFW is mostly such
    one-photo people)."""
    if enrol_per_id < 1:
        raise EvalError(f"--enrol-per-id must be >= 1, got {enrol_per_id}")
    if not 0.0 <= unknown_fraction < 1.0:
        raise EvalError(f"--unknown-fraction must be in [0, 1), got {unknown_fraction}")
    rng = np.random.default_rng(seed)
    eligible = [i for i, photos in by_id.items() if len(photos) > enrol_per_id]
    too_few = [i for i, photos in by_id.items() if len(photos) <= enrol_per_id]
    n_held = int(round(unknown_fraction * len(eligible)))
    if len(eligible) - n_held < 1:
        raise EvalError(f"no identity left to enrol: {len(eligible)} have more than {enrol_per_id} photos, "
                        f"{n_held} of them held out as strangers")
    held = sorted(eligible[i] for i in rng.permutation(len(eligible))[:n_held])
    held_set = set(held)
    enrol, mated = {}, []
    for identity in eligible:
        if identity in held_set:
            continue
        photos = [by_id[identity][i] for i in rng.permutation(len(by_id[identity]))]
        enrol[identity] = photos[:enrol_per_id]
        mated += [(identity, p) for p in photos[enrol_per_id:]]
    nonmated = [(identity, p) for identity in held + too_few for p in by_id[identity]]
    return Split(enrol, mated, nonmated, held, too_few)
