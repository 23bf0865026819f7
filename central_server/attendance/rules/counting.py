"""Whether a mobile check-in counts toward the day: one function per rule, each naming what keeps it out."""

from collections.abc import Iterable

# A faked place or an impossible journey: evidence against the check-in that no explanation clears.
FORGED_PLACE = frozenset({"mock_location", "impossible_travel"})
# Not at the office: an accepted explanation or a reviewer's acceptance vouches for where the employee was.
OUTSIDE_PLACE = frozenset({"outside_fence", "no_geofence"})
# The face was not the employee's, was a photo or screen, or was a JPEG sent before: counting them would let
# a colleague mark it.
SELFIE_FAILED = frozenset({"selfie_mismatch", "selfie_spoof", "selfie_reused"})


def place_genuine(flags: frozenset[str]) -> set[str]:
    """The location was not simulated and the journey from the last known place was possible."""
    return set(FORGED_PLACE & flags)


def inside_fence(flags: frozenset[str], vouched: bool) -> set[str]:
    """The fix lies in one of the site's office areas, or someone with the right vouched for the place."""
    return set() if vouched else set(OUTSIDE_PLACE & flags)


def selfie_matched(flags: frozenset[str]) -> set[str]:
    """The selfie matched this employee's templates, passed liveness and was not sent before."""
    return set(SELFIE_FAILED & flags)


def not_rejected(rejected: bool) -> set[str]:
    """A reviewer's rejection outranks every flag."""
    return {"rejected"} if rejected else set()


def checkin_reasons(flags: Iterable[str], *, vouched: bool = False, rejected: bool = False) -> frozenset[str]:
    """Everything that keeps this check-in out of the day; empty when it counts."""
    have = frozenset(f for f in flags if f)
    return frozenset(place_genuine(have) | inside_fence(have, vouched) | selfie_matched(have)
                     | not_rejected(rejected))


def checkin_counts(flags: Iterable[str], *, vouched: bool = False, rejected: bool = False) -> bool:
    return not checkin_reasons(flags, vouched=vouched, rejected=rejected)
