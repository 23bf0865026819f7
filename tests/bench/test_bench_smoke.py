"""Benchmarks at tiny sizes: they run, agree with their baseline and end with one JSON line of figures."""

import json
from pathlib import Path

import pytest

from bench import kiosk as bench_kiosk
from bench import match as bench_match
from bench.common import percentiles


def last_json_line(capsys) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


def test_percentiles_of_timings() -> None:
    assert percentiles([]) == {"ms_p50": None, "ms_p95": None, "count": 0}
    p = percentiles(range(1, 101))
    assert p["ms_p50"] == pytest.approx(50.5) and p["ms_p95"] == pytest.approx(95.05) and p["count"] == 100


def test_match_bench_smoke(capsys) -> None:
    assert bench_match.main(["--templates", "50,500", "--queries", "20", "--warmup", "2"]) == 0
    result = last_json_line(capsys)
    assert set(result["sizes"]) == {"50", "500"}
    for size in result["sizes"].values():
        assert size["results_agree"] is True
        assert 0 < size["ms_p50"] <= size["ms_p95"] and 0 < size["baseline_ms_p50"] <= size["baseline_ms_p95"]
    assert result["sizes"]["500"]["people"] == 100 and "goal_met" not in result
    with pytest.raises(SystemExit):
        bench_match.main(["--templates", "10,abc"])


@pytest.mark.shared_data
def test_kiosk_bench_smoke(shared_data: Path, capsys) -> None:
    argv = ["--frames", "40", "--people", "2", "--strangers", "1", "--shared-data", str(shared_data)]
    assert bench_kiosk.main(argv) == 0
    result = last_json_line(capsys)
    assert result["clip"]["size"] == "640x480" and result["clip"]["frames"] == 40
    opencv = result["runtimes"]["opencv"]
    assert opencv["fps"] > 0 and opencv["baseline_detect_only_fps"] > 0 and opencv["rss_mb"] > 0
    assert {"detect", "align", "embed", "match"} <= set(opencv["stages"])
    assert opencv["stages"]["detect"]["count"] == 40
    assert opencv["accuracy"]["misidentified"] == 0 and opencv["accuracy"]["strangers_accepted"] == 0
    assert opencv["decisions"] >= 1 and opencv["accuracy"]["recognised"] >= 1
    assert 0 < opencv["decision_ms_p50"] <= opencv["decision_ms_p95"] and opencv["decision_frames_p50"] >= 1
    # The TFLite SFace and the all-LiteRT pipeline (BlazeFace) are measured in the same run, on the same frames.
    assert set(result["runtimes"]) == {"opencv", "litert", "blazeface"}
    for name, figures in result["runtimes"].items():
        assert figures["fps"] > 0 and figures["stages"]["detect"]["count"] == 40, name
        assert figures["accuracy"]["misidentified"] == 0 and figures["accuracy"]["strangers_accepted"] == 0, name
    assert result["runtimes"]["litert"]["model_version"].endswith("sface-2021dec-fp32-tflite")
    assert result["runtimes"]["litert"]["accuracy"]["recognised"] >= 1
