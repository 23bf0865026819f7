"""Track-level liveness: simulated print and replay tracks are rejected, real live tracks pass, and the pipeline
turns a rejected track into a SPOOF decision (no attendance) unless liveness is disabled."""

import json
import time

import pytest

from kiosk.config import KioskConfig
from kiosk.gallery import Gallery
from kiosk.liveness import attacks
from kiosk.liveness.eval import main as eval_main
from kiosk.liveness.faces import find_face
from kiosk.liveness.fusion import TrackLiveness, load_fusion
from kiosk.pipeline import Pipeline

pytestmark = pytest.mark.shared_data
T0 = time.mktime((2025, 11, 25, 9, 0, 0, 0, 0, -1))


def track_score(detector, frames) -> float:
    evidence = TrackLiveness()
    for frame in frames:
        found = find_face(detector, frame)
        if found is not None:
            evidence.add_frame(found.image, found.face.box, found.valid)
    return evidence.evaluate(load_fusion())[0]


def test_simulated_print_and_replay_tracks_are_rejected(detector, lfw_faces) -> None:
    fusion = load_fusion()
    for i, image in enumerate(lfw_faces[:3]):
        for kind in ("print", "replay"):
            assert track_score(detector, attacks.attack_track(image, kind, 6, seed=i)) < fusion.threshold, kind


def test_real_live_track_passes(detector, live_sequence) -> None:
    assert track_score(detector, live_sequence) >= load_fusion().threshold


def _run(config: KioskConfig, frames, detector, embedder) -> tuple[Pipeline, list]:
    pipe = Pipeline(config, Gallery(), detector, embedder)
    decisions = []
    for i, frame in enumerate(frames):
        decisions += pipe.process(i, frame, T0 + i / 10)
    return pipe, decisions + pipe.finish(T0 + 10)


def test_pipeline_writes_spoof_for_a_print_attack_and_nothing_when_disabled(detector, embedder, lfw_faces,
                                                                            caplog) -> None:
    frames = attacks.attack_track(lfw_faces[0], "print", 8, seed=5)
    pipe, decisions = _run(KioskConfig(), frames, detector, embedder)
    assert [d.event for d in decisions] == ["SPOOF"]
    assert decisions[0].person_id is None and decisions[0].liveness_score < pipe.liveness_threshold
    assert set(decisions[0].liveness_cues) >= {"colour", "texture", "border", "planarity"}
    cost = pipe.stats.summary()["liveness"]
    assert cost["count"] == 1 and cost["p95_ms"] > 0
    assert pipe.counters.decisions == {"SPOOF": 1}

    assert pipe.liveness_threshold == load_fusion().threshold  # the shipped one unless a site sets its own

    off = KioskConfig(liveness={"enabled": False})
    with caplog.at_level("WARNING"):
        pipe, decisions = _run(off, frames, detector, embedder)
    assert [d.event for d in decisions] == ["UNKNOWN"] and decisions[0].liveness_score is None
    assert "LIVENESS DISABLED" in caplog.text
    assert "liveness" not in pipe.stats.summary() and pipe.counters.to_dict()["liveness"] == "DISABLED"


def test_eval_cli_on_a_small_subset(tmp_path, shared_data, capsys) -> None:
    for sub, names in (("live", ["100", "140"]), ("spoof", ["150", "250"])):
        (tmp_path / sub).mkdir()
        for n in names:
            (tmp_path / sub / f"{n}.jpg").symlink_to(shared_data / "liveness" / "replay_a" / sub / f"{n}.jpg")
    (tmp_path / "live" / "broken.jpg").write_bytes(b"")  # an unreadable file is counted, not fatal
    assert eval_main(["--live", str(tmp_path / "live"), "--spoof", str(tmp_path / "spoof")]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"live", "spoof", "apcer", "bpcer", "acer", "threshold", "failed_to_detect", "ms_per_image",
            "cues"} <= set(out)
    assert out["live"] == 2 and out["spoof"] == 2 and out["unreadable"]["live"] == 1
    assert out["threshold"] == load_fusion().threshold and 0 <= out["acer"] <= 1
    assert set(out["experimental_cues"]) == {"moire"} and 0 <= out["experimental_cues"]["moire"]["eer"] <= 1
