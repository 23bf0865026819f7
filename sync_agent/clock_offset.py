"""The kiosk's estimate of (server time - local time) from ack exchanges, NTP-style and round-trip aware."""

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class OffsetSample:
    """One ack exchange: offset = server time - local time at the exchange's midpoint, give or take rtt/2."""

    offset_s: float
    rtt_s: float
    at_mono: float


def offset_sample(server_unix: float, sent_mono: float, recv_mono: float, recv_wall: float) -> OffsetSample:
    """The server stamped its ack between our send and our receipt: assume the middle (error <= rtt/2)."""
    rtt = max(0.0, recv_mono - sent_mono)
    return OffsetSample(server_unix - (recv_wall - rtt / 2), rtt, recv_mono)


class ClockOffset:
    """Keeps the last `keep` samples and trusts the one with the shortest round trip (least queueing)."""

    def __init__(self, keep: int = 32) -> None:
        self._samples: deque[OffsetSample] = deque(maxlen=keep)

    def add(self, sample: OffsetSample) -> None:
        self._samples.append(sample)

    def best(self) -> OffsetSample | None:
        return min(self._samples, key=lambda s: s.rtt_s, default=None)
