"""Gallery: 1:N search, encrypted file (wrong key / tampering refused), enrolment from photos with reasons."""

import csv
import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models import thresholds
from edge_models.opencv_runtime import Detector, Embedder, read_image
from kiosk.gallery import (
    Gallery,
    GalleryError,
    build_gallery,
    default_key_path,
    load_gallery,
    load_or_create_key,
)


def unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(128).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def small_gallery() -> tuple[Gallery, dict[str, list[np.ndarray]]]:
    rng = np.random.default_rng(7)
    g, vecs = Gallery(), {}
    for pid, n in (("emp-001", 3), ("emp-002", 1), ("emp-003", 2)):
        vecs[pid] = [unit(rng) for _ in range(n)]
        for v in vecs[pid]:
            g.add(pid, f"Name {pid}", v)
    return g, vecs


def test_search_returns_best_and_second_best_person(small_gallery) -> None:
    g, vecs = small_gallery
    assert len(g) == 6 and g.people == ["emp-001", "emp-002", "emp-003"]
    probe = vecs["emp-001"][2]
    m = g.search(probe)
    assert m.person_id == "emp-001" and m.name == "Name emp-001"
    assert m.score == pytest.approx(1.0, abs=1e-5)
    # the runner-up is another *person*, not emp-001's other templates
    expected_second = max(("emp-002", "emp-003"), key=lambda p: max(float(v @ probe) for v in vecs[p]))
    assert m.second_person_id == expected_second
    assert m.second_score == pytest.approx(max(float(v @ probe) for v in vecs[expected_second]), abs=1e-5)
    assert m.margin == pytest.approx(m.score - m.second_score)


def test_empty_gallery_and_bad_templates() -> None:
    g = Gallery()
    assert g.search(np.ones(128, np.float32)).person_id is None
    with pytest.raises(GalleryError, match="not allowed"):
        g.add("bad id with spaces", "x", np.ones(128))
    with pytest.raises(GalleryError, match="expected 128"):
        g.add("emp-9", "x", np.ones(64))
    with pytest.raises(GalleryError, match="zero"):
        g.add("emp-9", "x", np.zeros(128))


def test_encrypted_round_trip(small_gallery, tmp_path: Path) -> None:
    g, vecs = small_gallery
    path = g.save(tmp_path / "gallery.hjg")
    key = default_key_path(path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    assert raw.startswith(b"HJGALLRY") and b"emp-001" not in raw and b"Name" not in raw  # nothing in clear
    back = load_gallery(path)
    assert back.people == g.people and back.names == g.names
    assert np.array_equal(back.templates, g.templates)
    assert back.search(vecs["emp-003"][0]).person_id == "emp-003"


def test_wrong_key_refused(small_gallery, tmp_path: Path) -> None:
    g, _ = small_gallery
    path = g.save(tmp_path / "gallery.hjg")
    other = tmp_path / "other.key"
    load_or_create_key(other)
    with pytest.raises(GalleryError, match="wrong key or the file is corrupted"):
        load_gallery(path, other)


@pytest.mark.parametrize("where", ["body", "header_version", "magic", "truncate"])
def test_tampered_file_refused(small_gallery, tmp_path: Path, where: str) -> None:
    g, _ = small_gallery
    path = g.save(tmp_path / "gallery.hjg")
    data = bytearray(path.read_bytes())
    if where == "body":
        data[len(data) // 2] ^= 0x01
        match = "corrupted"
    elif where == "header_version":
        data[8] = 2
        match = "format version 2"
    elif where == "magic":
        data[0] ^= 0xFF
        match = "not a Hajiri gallery"
    else:
        data = data[:20]
        match = "truncated"
    path.write_bytes(bytes(data))
    with pytest.raises(GalleryError, match=match):
        load_gallery(path)


def test_key_file_problems(small_gallery, tmp_path: Path) -> None:
    g, _ = small_gallery
    path = g.save(tmp_path / "gallery.hjg")
    key = default_key_path(path)
    os.chmod(key, 0o644)
    with pytest.raises(GalleryError, match="chmod 600"):
        load_gallery(path)
    os.chmod(key, 0o600)
    key.write_text("abcd\n")
    with pytest.raises(GalleryError, match="32"):
        load_gallery(path)
    key.unlink()
    with pytest.raises(GalleryError, match="cannot read"):
        load_gallery(path)
    with pytest.raises(GalleryError, match="cannot read"):
        load_gallery(tmp_path / "absent.hjg")


@pytest.fixture(scope="module")
def models() -> tuple[Detector, Embedder]:
    return Detector(), Embedder()


def test_enrolment_reports_every_skipped_photo_without_shared_data(models, tmp_path: Path) -> None:
    photos = tmp_path / "photos" / "emp-001"
    photos.mkdir(parents=True)
    cv2.imwrite(str(photos / "blank.jpg"), np.full((200, 200, 3), 128, np.uint8))
    (photos / "garbage.jpg").write_bytes(b"not a jpeg at all")
    gallery, report = build_gallery(tmp_path / "photos", *models)
    assert len(gallery) == 0 and report.people == 0
    reasons = dict(report.skipped)
    assert reasons[str(photos / "blank.jpg")] == "no face found"
    assert "cannot decode" in reasons[str(photos / "garbage.jpg")]
    assert reasons["emp-001"] == "person not enrolled: no usable photo"
    with pytest.raises(GalleryError, match="does not exist"):
        build_gallery(tmp_path / "nope", *models)


def celeba_people(shared_data: Path) -> tuple[Path, dict[str, list[str]]]:
    root = shared_data / "faces" / "celeba_dev"
    by_person: dict[str, list[str]] = {}
    with open(root / "labels.csv", newline="") as f:
        for r in csv.DictReader(f):
            by_person.setdefault(r["identity"], []).append(r["image"])
    return root, by_person


@pytest.mark.shared_data
def test_enrol_folder_and_recognise_other_photos(shared_data: Path, models, tmp_path: Path) -> None:
    detector, embedder = models
    root, by_person = celeba_people(shared_data)
    ids = sorted(by_person)
    enrolled, strangers = ids[:8], ids[50:54]  # people 50+ are never enrolled
    photos = tmp_path / "photos"
    for pid in enrolled:
        (photos / pid).mkdir(parents=True)
        for rel in by_person[pid][:3]:
            os.symlink(root / rel, photos / pid / Path(rel).name)
    (photos / "names.csv").write_text("person_id,name\n" + "".join(f"{p},Person {p}\n" for p in enrolled))
    group = shared_data / "faces" / "scenes" / "examples__two_people.jpg"
    os.symlink(group, photos / enrolled[0] / "group.jpg")
    (photos / enrolled[1] / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")

    gallery, report = build_gallery(photos, detector, embedder)
    reasons = dict(report.skipped)
    assert reasons[str(photos / enrolled[0] / "group.jpg")] == "2 faces found, expected exactly one"
    assert "cannot decode" in reasons[str(photos / enrolled[1] / "broken.jpg")]
    assert report.people == len(enrolled) and gallery.people == enrolled
    assert report.templates == len(gallery) >= 2 * len(enrolled)  # in-the-wild photos: a few may be skipped
    assert gallery.names[enrolled[2]] == f"Person {enrolled[2]}"

    path = gallery.save(tmp_path / "gallery.hjg", tmp_path / "g.key")
    gallery = load_gallery(path, tmp_path / "g.key")
    th, margin = thresholds.match_threshold(), thresholds.match_margin()

    def verdict(rel: str) -> str | None:
        image = read_image(root / rel)
        faces = detector.detect(image)
        if not faces:
            return "no-face"
        m = gallery.search(embedder.embed_face(image, max(faces, key=lambda f: f.size)))
        return m.person_id if m.score >= th and m.margin >= margin else None

    genuine = [(pid, verdict(rel)) for pid in enrolled for rel in by_person[pid][3:7]]
    usable = [(p, v) for p, v in genuine if v != "no-face"]
    correct = sum(p == v for p, v in usable)
    assert correct >= 0.8 * len(usable), genuine
    assert all(v in (p, None) for p, v in usable), "a person was taken for someone else"
    stranger_verdicts = [verdict(rel) for pid in strangers for rel in by_person[pid][:5]]
    assert all(v in (None, "no-face") for v in stranger_verdicts), stranger_verdicts
