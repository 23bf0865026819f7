"""The SFace cosine threshold and best-vs-second margin the kiosk ships with (thresholds.json, read at run time).

The numbers live in thresholds.json next to this file, with the data set they came from and how they were
measured; `python -m model_lab.thresholds ../shared/data/faces/lfw_dev` re-measures them. Calibrate on one set
(LFW) and check identification on another (CelebA): a threshold checked on its own tuning set proves nothing.
"""

import json
from functools import cache
from pathlib import Path

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.json")


@cache
def shipped() -> dict:
    """The shipped numbers (thresholds.json)."""
    return json.loads(THRESHOLDS_FILE.read_text())


def match_threshold() -> float:
    """Cosine similarity an identity's best score must reach in 1:N search."""
    return float(shipped()["match_threshold"])


def match_margin() -> float:
    """How far the best identity must lead the second best, else the decision is UNKNOWN."""
    return float(shipped()["margin"])
