"""Shared benchmark helpers: percentiles in ms, resident memory, machine facts, the one JSON result line."""

import json
import os
import platform
import resource
import sys
from collections.abc import Iterable

import numpy as np


def percentiles(samples_ms: Iterable[float]) -> dict[str, float | int | None]:
    """{"ms_p50", "ms_p95", "count"} of a list of timings in milliseconds (None when there are none)."""
    s = np.asarray(list(samples_ms), np.float64)
    if s.size == 0:
        return {"ms_p50": None, "ms_p95": None, "count": 0}
    return {"ms_p50": round(float(np.percentile(s, 50)), 3), "ms_p95": round(float(np.percentile(s, 95)), 3),
            "count": int(s.size)}


def rss_mb() -> float:
    """Resident set size of this process now (Linux /proc), else the peak from getrusage."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def machine() -> dict:
    """What the figures were measured on: they only mean something next to this."""
    import cv2

    # The load average says whether other work shared the CPUs during the run (figures then read high).
    return {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "numpy": np.__version__, "opencv": cv2.__version__, "cv2_threads": cv2.getNumThreads(),
            "loadavg_1m": round(os.getloadavg()[0], 2)}


def print_result(result: dict) -> None:
    """The benchmark's figures as ONE JSON object on the last stdout line."""
    sys.stdout.flush()
    print(json.dumps(result), flush=True)
