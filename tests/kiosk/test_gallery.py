"""Gallery: 1:N search (= the naive computation), atomic swap, encrypted file, enrolment with reasons."""

import csv
import os
import stat
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models import thresholds
from edge_models.opencv_runtime import Detector, Embedder, read_image
from hajiri_common.keys import load_or_create_key
from kiosk.gallery import (
    Gallery,
    GalleryError,
    GalleryHolder,
    build_gallery,
    default_key_path,
    load_gallery,
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


def naive_search(g: Gallery, probe: np.ndarray) -> tuple[str, float, str | None, float]:
    """The original search: a full per-person max with np.maximum.at and a full sort."""
    people = g.people
    row_person = np.array([people.index(p) for p in g._rows])
    best = np.full(len(people), -np.inf, np.float32)
    np.maximum.at(best, row_person, g.templates @ probe)
    order = np.argsort(best)[::-1]
    second = people[order[1]] if len(order) > 1 else None
    return people[order[0]], float(best[order[0]]), second, float(best[order[1]]) if second else -1.0


def random_gallery(rng: np.random.Generator, people: int, prefix: str = "p") -> Gallery:
    """people with 1-6 templates each, added in a shuffled order (a person's rows are not contiguous)."""
    rows = [f"{prefix}{i:04d}" for i in range(people) for _ in range(int(rng.integers(1, 7)))]
    rows = [rows[i] for i in rng.permutation(len(rows))]
    g = Gallery()
    half = len(rows) // 2
    for pid in rows[:half]:
        g.add(pid, "", unit(rng))
    g.add_many(rows[half:], rng.standard_normal((len(rows) - half, 128)).astype(np.float32))
    return g


def test_search_equals_the_naive_computation(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    g = random_gallery(rng, 300)
    probes = [unit(rng) for _ in range(100)] + [g.templates[5], g.templates[-1]]
    back = load_gallery(g.save(tmp_path / "g.hjg"))
    for probe in probes:
        first, score, second, second_score = naive_search(g, probe)
        for gallery in (g, back):
            m = gallery.search(probe)
            assert (m.person_id, m.second_person_id) == (first, second)
            assert m.score == pytest.approx(score, abs=1e-5)
            assert m.second_score == pytest.approx(second_score, abs=1e-5)
    one = Gallery()
    one.add("solo", "Solo", unit(rng))
    assert one.search(unit(rng)).second_person_id is None and one.search(unit(rng)).second_score == -1.0


def test_add_many_checks_every_row_first_and_a_frozen_gallery_refuses_changes() -> None:
    rng = np.random.default_rng(2)
    g = Gallery()
    bad = np.stack([unit(rng), np.zeros(128, np.float32)])
    with pytest.raises(GalleryError, match="'b' is zero"):
        g.add_many(["a", "b"], bad)
    with pytest.raises(GalleryError, match="one template per person id"):
        g.add_many(["a"], bad)
    assert len(g) == 0 and g.people == []
    g.add_many(["a", "a"], np.stack([unit(rng), unit(rng)]), {"a": "Ann"})
    assert len(g) == 2 and g.names == {"a": "Ann"}
    g.freeze()
    with pytest.raises(GalleryError, match="frozen"):
        g.add("c", "C", unit(rng))
    with pytest.raises(ValueError):
        g.templates[0, 0] = 1.0  # the matrix a kiosk searches cannot be scribbled on either


def test_gallery_swap_mid_stream_is_atomic() -> None:
    """A searching thread never sees a half-built gallery: every answer is exactly one published gallery's."""
    rng = np.random.default_rng(5)
    probes = [unit(rng) for _ in range(8)]
    generations = 15

    def build(gen: int) -> Gallery:
        g = Gallery()
        local = np.random.default_rng(100 + gen)
        for batch in range(4):  # built in steps: a reader of a half-built gallery would get other answers
            ids = [f"g{gen}-p{i:03d}" for i in range(batch * 50, batch * 50 + 50) for _ in range(3)]
            g.add_many(ids, local.standard_normal((len(ids), 128)).astype(np.float32))
        return g

    expected = {}
    for gen in range(generations):
        g = build(gen)
        expected[gen] = [naive_search(g, p) for p in probes]
    holder = GalleryHolder(build(0))
    seen, errors, done = set(), [], threading.Event()

    def reader() -> None:
        k = 0
        while not done.is_set() or k < 50:
            i = k % len(probes)
            m = holder.search(probes[i])
            gen = int(m.person_id.split("-")[0][1:])
            seen.add(gen)
            first, score, second, _ = expected[gen][i]
            if (m.person_id, m.second_person_id) != (first, second) or abs(m.score - score) > 1e-5:
                errors.append((gen, i, m))
            k += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for gen in range(1, generations):
            old = holder.swap(build(gen))  # built while the reader searches the current one
            assert old.frozen and holder.current.frozen
    finally:
        done.set()
        thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    assert len(seen) >= 3, f"reader saw generations {seen}: the swap did not happen mid-stream"
    assert holder.swaps == generations - 1
    assert holder.search(probes[0]).person_id.startswith(f"g{generations - 1}-")
    other = Gallery(model_version="some-other-model")
    other.add("x", "X", probes[0])
    with pytest.raises(GalleryError, match="different models"):
        holder.swap(other)


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
