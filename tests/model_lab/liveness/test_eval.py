"""python -m model_lab.liveness.eval: one JSON line of APCER/BPCER/ACER and per-cue figures, unreadable files counted."""

import json

import pytest

from edge_models.liveness.fusion import load_fusion
from model_lab.liveness.eval import main as eval_main

pytestmark = pytest.mark.shared_data


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
