"""bench.sync runs end to end at a tiny size and prints its figures as one JSON line (not a measurement)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
KEYS = {"devices", "records", "workers", "database", "drain_s", "records_per_s", "latency_ms_p50", "latency_ms_p95",
        "lost", "duplicated", "broker_rss_mb"}


def test_sync_bench_smoke(mosquitto_available):
    out = subprocess.run([sys.executable, "-m", "bench.sync", "--devices", "3", "--records", "300", "--workers", "2",
                          "--batch-size", "50", "--live-records", "20", "--live-rate", "50", "--timeout", "60"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(result) >= KEYS
    assert (result["devices"], result["records"], result["workers"], result["database"]) == (3, 300, 2, "sqlite")
    assert result["lost"] == 0 and result["duplicated"] == 0 and result["rejected"] == 0
    assert result["records_per_s"] > 0 and result["latency_ms_p95"] >= result["latency_ms_p50"] >= 0
    assert result["broker_rss_mb"] > 0 and result["baseline_mqtt_records_per_s"] > 0
