"""python -m model_lab.eval: pair files (LFW folds / CSV), errors naming the line, metrics, real runs."""

import csv
import json
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models.opencv_runtime import Detector, Embedder, normalise, read_image
from model_lab import eval as face_eval
from model_lab.evaluation.flip import embed_with_flip
from model_lab.evaluation.labelled import load_identities, split_identities
from model_lab.evaluation.metrics import (
    accuracy_at,
    best_threshold,
    fnir_at_fpir,
    kfold_accuracy,
    random_folds,
    tar_at_far,
)
from model_lab.evaluation.pairs import PairsFormatError, read_pairs
from model_lab.evaluation.photos import EvalError

VERIFY_KEYS = {"pairs", "accuracy", "accuracy_std", "fixed_threshold", "fixed_threshold_accuracy",
               "tar_at_far_1e-3", "failed_to_detect", "ms_per_image"}
IDENTIFY_KEYS = {"ids_enrolled", "stranger_ids", "mated_probes", "nonmated_probes", "rank1",
                 "fnir_at_fpir_1e-2", "fnir_at_fpir_1e-3", "failed_to_detect", "ms_per_probe"}


def run_cli(capsys, argv: list[str]) -> tuple[int, dict | None, str]:
    code = face_eval.main(argv)
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    return code, json.loads(lines[-1]) if code == 0 else None, err


# -- pair files ---------------------------------------------------------------------------------------------


def test_lfw_pairs_txt_folds_and_image_names(tmp_path: Path) -> None:
    f = tmp_path / "pairs.txt"
    f.write_text("2\t1\nAnn\t1\t2\nAnn\t1\tBob\t3\nBob\t2\t3\nCid\t1\tAnn\t2\n")
    pairs = read_pairs(f)
    assert [(p.image_a, p.image_b, p.same, p.fold) for p in pairs] == [
        ("Ann/Ann_0001.jpg", "Ann/Ann_0002.jpg", True, 0),
        ("Ann/Ann_0001.jpg", "Bob/Bob_0003.jpg", False, 0),
        ("Bob/Bob_0002.jpg", "Bob/Bob_0003.jpg", True, 1),
        ("Cid/Cid_0001.jpg", "Ann/Ann_0002.jpg", False, 1)]


@pytest.mark.parametrize(("text", "message"), [
    ("2 1\nAnn 1 2\nAnn 1 Bob 3\nBob 2\nCid 1 Ann 2\n", r":4: expected a same-person line .* \(fold 2\)"),
    ("1 1\nAnn 1 x\nAnn 1 Bob 3\n", r":2: 'x' is not an image number"),
    ("\n2 1\nAnn 1 2\nAnn 1 Bob 3\n", r"header says 2 folds .* the file has 2"),
    ("ten 300\n", r":1: neither LFW pairs.txt"),
    ("image_a,image_b,same\na.jpg,b.jpg,1\nc.jpg,d.jpg,maybe\n", r":3: same must be 1/0"),
    ("image_a,image_b\na.jpg,b.jpg\n", r":1: CSV header needs .*'same'"),
    ("image_a,image_b,same\n", r"no pairs after the header"),
    ("", r"empty pairs file"),
])
def test_malformed_pairs_file_is_a_clear_error_naming_the_line(tmp_path: Path, capsys, text: str,
                                                               message: str) -> None:
    f = tmp_path / "pairs.txt"
    f.write_text(text)
    with pytest.raises(PairsFormatError, match=message):
        read_pairs(f)
    code, _, err = run_cli(capsys, ["verify", "--pairs", str(f), "--root", str(tmp_path)])
    assert code == 2 and re.search(message, err) and str(f) in err


def test_missing_photos_refused_before_any_work(tmp_path: Path, capsys) -> None:
    f = tmp_path / "pairs.csv"
    f.write_text("image_a,image_b,same\nx/a.jpg,x/b.jpg,1\n")
    code, _, err = run_cli(capsys, ["verify", "--pairs", str(f), "--root", str(tmp_path)])
    assert code == 2 and "2 of 2 photos are missing" in err and "wrong --root" in err
    # a runtime whose model has no shipped threshold must not be judged by another model's threshold
    with pytest.raises(EvalError, match="give --fixed-threshold"):
        face_eval.shipped_threshold("some-other-model")


# -- metrics ------------------------------------------------------------------------------------------------


def test_best_threshold_and_kfold_accuracy_count_no_face_pairs_as_wrong() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1, np.nan, np.nan])
    same = np.array([True, True, True, False, False, False, True, False])
    th = best_threshold(scores, same)
    assert 0.3 < th < 0.7
    assert accuracy_at(scores, same, th) == pytest.approx(6 / 8)  # both NaN pairs wrong, whatever the label
    assert accuracy_at(scores, same, 0.75) == pytest.approx(5 / 8)
    folds = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    mean, std, thresholds = kfold_accuracy(scores, same, folds)
    assert mean == pytest.approx(0.75) and std == pytest.approx(0.0) and len(thresholds) == 2
    # ties: a threshold cannot split equal scores, so the cut is never placed between them
    assert best_threshold(np.array([0.5, 0.5, 0.1]), np.array([True, False, False])) in (
        pytest.approx(0.3), pytest.approx(0.5 - 1e-6))


def test_random_folds_are_stratified_and_seeded() -> None:
    same = np.array([True] * 20 + [False] * 200)
    folds = random_folds(same, 10, seed=3)
    assert all(np.sum(same & (folds == k)) == 2 and np.sum(~same & (folds == k)) == 20 for k in range(10))
    assert np.array_equal(folds, random_folds(same, 10, seed=3))
    assert not np.array_equal(folds, random_folds(same, 10, seed=4))


def test_tar_at_far_and_fnir_at_fpir() -> None:
    rng = np.random.default_rng(0)
    different = rng.uniform(-0.2, 0.3, 1000)
    same_scores = np.r_[rng.uniform(0.25, 0.9, 99), np.nan]  # one same pair without a face: a false reject
    scores = np.r_[same_scores, different]
    same = np.r_[np.ones(100, bool), np.zeros(1000, bool)]
    tar, th = tar_at_far(scores, same, 1e-3)
    assert np.sum(different >= th) <= 1 and np.sum(different >= np.nextafter(th, -1)) >= 1
    assert tar == pytest.approx(np.sum(same_scores >= th) / 100)
    mated = np.array([0.9, 0.8, 0.5, np.nan])
    correct = np.array([True, False, True, False])
    nonmated = np.r_[np.linspace(0.0, 0.6, 100)]
    fnir, th = fnir_at_fpir(mated, correct, nonmated, 1e-2)  # one stranger may pass: just above 0.594
    assert 0.59 < th <= 0.6 and fnir == pytest.approx(3 / 4)  # only the 0.9 probe is right and above


def test_identities_from_labels_or_folders_and_seeded_split(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("image,identity\n" + "".join(
        f"{p}/{k}.jpg,{p}\n"
        for p, n in (("a", 4), ("b", 3), ("c", 5), ("d", 2), ("e", 1)) for k in range(n)))
    by_id = load_identities(tmp_path)
    assert sorted(by_id) == ["a", "b", "c", "d", "e"] and len(by_id["c"]) == 5
    split = split_identities(by_id, enrol_per_id=2, unknown_fraction=0.34, seed=1)
    assert len(split.held_out) == 1 and split.too_few == ["d", "e"]  # a,b,c enrollable; 1 of 3 held out
    assert len(split.enrol) == 2 and all(len(v) == 2 for v in split.enrol.values())
    assert {i for i, _ in split.mated} == set(split.enrol)
    assert {i for i, _ in split.nonmated} == {*split.held_out, "d", "e"}
    enrolled_photos = {p for v in split.enrol.values() for p in v}
    assert not enrolled_photos & {p for _, p in split.mated + split.nonmated}  # never probe with enrol photos
    assert split_identities(by_id, 2, 0.34, seed=1) == split
    folders = tmp_path / "folders"
    for p in ("x", "y"):
        (folders / p).mkdir(parents=True)
        (folders / p / "1.jpg").write_bytes(b"")
    (folders / "x" / "notes.txt").write_text("not a photo")
    assert load_identities(folders) == {"x": ["x/1.jpg"], "y": ["y/1.jpg"]}
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "labels.csv").write_text("file,who\na.jpg,a\n")
    with pytest.raises(EvalError, match="header must name image,identity"):
        load_identities(tmp_path / "bad")
    with pytest.raises(EvalError, match="no identity left to enrol"):
        split_identities({"a": ["1", "2"]}, 2, 0.0)
    with pytest.raises(EvalError, match="unknown-fraction"):
        split_identities(by_id, 2, 1.0)


# -- real photos --------------------------------------------------------------------------------------------


def lfw_subset(shared_data: Path, tmp_path: Path) -> tuple[Path, list[tuple[str, str, bool]]]:
    """A root of symlinks to 8 same + 8 different lfw_dev pairs, plus a photo without a face."""
    lfw = shared_data / "faces" / "lfw_dev"
    with open(lfw / "pairs.csv", newline="") as f:
        rows = [(r["image_a"], r["image_b"], r["same"] == "1") for r in csv.DictReader(f)]
    chosen = [r for r in rows if r[2]][:8] + [r for r in rows if not r[2]][:8]
    root = tmp_path / "root"
    for a, b, _ in chosen:
        for rel in (a, b):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            if not (root / rel).exists():
                os.symlink(lfw / rel, root / rel)
    (root / "Nobody").mkdir()
    cv2.imwrite(str(root / "Nobody" / "Nobody_0001.jpg"), np.full((250, 250, 3), 120, np.uint8))
    return root, chosen


@pytest.mark.shared_data
def test_verify_on_lfw_pairs_txt_and_csv(shared_data: Path, tmp_path: Path, capsys) -> None:
    root, chosen = lfw_subset(shared_data, tmp_path)
    number = re.compile(r"^(.+)/\1_(\d{4})\.jpg$")

    def parts(rel: str) -> tuple[str, int]:
        m = number.match(rel)
        return m.group(1), int(m.group(2))

    same, diff = [c for c in chosen if c[2]], [c for c in chosen if not c[2]]
    lines = ["2 4"]
    for fold in range(2):
        for a, b, _ in same[4 * fold:4 * fold + 4]:
            (n, i), (_, j) = parts(a), parts(b)
            lines.append(f"{n}\t{i}\t{j}")
        for a, b, _ in diff[4 * fold:4 * fold + 4]:
            (n1, i), (n2, j) = parts(a), parts(b)
            lines.append(f"{n1}\t{i}\t{n2}\t{j}")
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    code, result, _ = run_cli(capsys, ["verify", "--pairs", str(tmp_path / "pairs.txt"), "--root", str(root)])
    assert code == 0 and set(result) >= VERIFY_KEYS
    assert result["pairs"] == 16 and result["protocol"].startswith("2-fold")
    assert result["failed_to_detect"] == 0 and result["accuracy"] >= 0.85
    assert result["fixed_threshold"] == pytest.approx(face_eval.thresholds.match_threshold())
    assert 0 < result["ms_per_image"] < 2000

    # CSV: same pairs plus one with a face-less photo, which must count as wrong at every threshold.
    with open(tmp_path / "pairs.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image_a", "image_b", "same"])
        w.writerows((a, b, int(s)) for a, b, s in chosen)
        w.writerow([chosen[0][0], "Nobody/Nobody_0001.jpg", 1])
    code, result, _ = run_cli(capsys, ["verify", "--pairs", str(tmp_path / "pairs.csv"), "--root", str(root),
                                       "--flip", "--fixed-threshold", "0.3"])
    assert code == 0 and result["pairs"] == 17
    assert result["failed_to_detect"] == 1 and result["failed_pairs"] == 1
    assert "cross-validation" in result["protocol"] and result["flip"] is True
    assert result["fixed_threshold"] == 0.3 and result["fixed_threshold_source"] == "--fixed-threshold"
    assert result["fixed_threshold_accuracy"] <= 16 / 17 and result["accuracy"] < 1.0


@pytest.mark.shared_data
def test_identify_on_celeba_folders(shared_data: Path, tmp_path: Path, capsys) -> None:
    celeba = shared_data / "faces" / "celeba_dev"
    by_id = load_identities(celeba)
    root = tmp_path / "people"
    for identity in sorted(by_id)[:6]:
        (root / identity).mkdir(parents=True)
        for rel in by_id[identity][:4]:
            os.symlink(celeba / rel, root / identity / Path(rel).name)
    code, result, _ = run_cli(capsys, ["identify", "--root", str(root), "--enrol-per-id", "2",
                                       "--unknown-fraction", "0.34", "--seed", "1"])
    assert code == 0 and set(result) >= IDENTIFY_KEYS
    assert result["ids_enrolled"] + result["ids_enrol_failed"] == 4 and result["stranger_ids"] == 2
    assert result["mated_probes"] == 8 and result["nonmated_probes"] == 8
    assert result["rank1"] >= 0.75
    assert result["misidentified_at_fixed"] == 0.0 and result["fpir_at_fixed"] == 0.0


@pytest.mark.shared_data
def test_flip_embedding_is_the_normalised_sum_of_both_views(shared_data: Path) -> None:
    image = read_image(shared_data / "faces" / "lfw_dev" / "AJ_Cook" / "AJ_Cook_0001.jpg")
    detector, embedder = Detector(), Embedder()
    face = detector.detect(image)[0]
    aligned = embedder.align(image, face)
    flipped = embed_with_flip(embedder, image, face)
    expected = normalise(embedder.embed(aligned) + embedder.embed(cv2.flip(aligned, 1)))
    assert np.allclose(flipped, expected, atol=1e-6)
    assert np.linalg.norm(flipped) == pytest.approx(1.0, abs=1e-5)
    plain = embedder.embed(aligned)
    assert 0.85 < float(plain @ flipped) < 0.9999  # close to, but not the same as, the plain embedding
