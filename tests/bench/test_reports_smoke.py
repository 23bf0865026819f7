"""bench.reports runs end to end at a tiny size and prints its figures as one JSON line (not a measurement)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KEYS = ("employees", "days", "events", "seconds_compute", "seconds_csv", "seconds_xlsx", "seconds_pdf")


def test_reports_bench_smoke():
    out = subprocess.run([sys.executable, "-m", "bench.reports", "--employees", "200", "--days", "5",
                          "--baseline-employees", "20"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert tuple(result)[:len(KEYS)] == KEYS  # the stable keys first, in order
    assert (result["employees"], result["days"], result["database"]) == (200, 5, "sqlite")
    assert result["day_rows"] == 200 * 5 and 0 < result["events"] <= 2 * result["day_rows"]
    assert result["totals_match_rows"] is True and result["days_filled"] == 0 and result["report_rows"] == 200
    assert all(result[k] > 0 for k in KEYS[3:])
    # Every day pays at most one day; absences and half days make the total smaller than the days.
    assert 0 < result["payable_days_total"] < result["day_rows"]
    assert result["pdf_pages"] >= 5 and result["xlsx_bytes"] > 0 and result["csv_bytes"] > 0
    assert result["baseline_naive_employees"] == 20 and result["baseline_naive_seconds"] > 0
