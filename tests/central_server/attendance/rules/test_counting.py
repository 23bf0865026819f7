"""The counting rules for a mobile check-in, one table per rule and one for the whole verdict."""

import pytest

from central_server.attendance.rules.counting import (
    checkin_counts,
    checkin_reasons,
    inside_fence,
    not_rejected,
    place_genuine,
    selfie_matched,
)


@pytest.mark.parametrize("flags,out", [
    ((), set()),
    (("queued_offline",), set()),
    (("mock_location",), {"mock_location"}),
    (("impossible_travel", "outside_fence"), {"impossible_travel"}),
])
def test_place_genuine(flags, out):
    assert place_genuine(frozenset(flags)) == out


@pytest.mark.parametrize("flags,vouched,out", [
    ((), False, set()),
    (("outside_fence",), False, {"outside_fence"}),
    (("no_geofence",), False, {"no_geofence"}),
    (("outside_fence",), True, set()),
    (("mock_location",), True, set()),  # not this rule's business
])
def test_inside_fence(flags, vouched, out):
    assert inside_fence(frozenset(flags), vouched) == out


@pytest.mark.parametrize("flags,out", [
    ((), set()),
    (("selfie_mismatch",), {"selfie_mismatch"}),
    (("selfie_spoof",), {"selfie_spoof"}),
    (("selfie_reused", "device_clock_skew"), {"selfie_reused"}),
])
def test_selfie_matched(flags, out):
    assert selfie_matched(frozenset(flags)) == out


def test_not_rejected():
    assert not_rejected(True) == {"rejected"} and not_rejected(False) == set()


@pytest.mark.parametrize("flags,vouched,rejected,reasons", [
    ("", False, False, set()),
    ("queued_offline,device_clock_skew", False, False, set()),
    ("outside_fence", False, False, {"outside_fence"}),
    ("outside_fence", True, False, set()),  # an accepted explanation or review vouches for the place
    ("outside_fence,mock_location", True, False, {"mock_location"}),  # a faked place stays out
    ("selfie_spoof", True, False, {"selfie_spoof"}),
    ("", False, True, {"rejected"}),  # a reviewer's rejection outranks every flag
    ("outside_fence,selfie_mismatch", False, True, {"outside_fence", "selfie_mismatch", "rejected"}),
])
def test_checkin_verdict(flags, vouched, rejected, reasons):
    split = flags.split(",")
    assert checkin_reasons(split, vouched=vouched, rejected=rejected) == reasons
    assert checkin_counts(split, vouched=vouched, rejected=rejected) is (not reasons)
