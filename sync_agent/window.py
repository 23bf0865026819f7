"""The batches sent but not yet acked: a bounded window, with the ones due for a resend picked out in seq order."""

from dataclasses import dataclass

from hajiri_wire import AttendanceRecord


@dataclass
class InflightBatch:
    """Records published together and still waiting, at least in part, for the server's ack."""

    records: list[AttendanceRecord]
    sent_at: float
    attempts: int = 1

    @property
    def first_seq(self) -> int:
        return self.records[0].seq


class InflightWindow:
    """At most `max_batches` unacked batches; a batch is due again `ack_timeout_s` after it was last sent."""

    def __init__(self, max_batches: int, ack_timeout_s: float) -> None:
        self.max_batches = max_batches
        self.ack_timeout_s = ack_timeout_s
        self._batches: list[InflightBatch] = []

    def __len__(self) -> int:
        return len(self._batches)

    def free_slots(self) -> int:
        return max(0, self.max_batches - len(self._batches))

    def record_ids(self) -> set[str]:
        return {r.record_id for b in self._batches for r in b.records}

    def add(self, records: list[AttendanceRecord], now: float) -> InflightBatch:
        if not records:
            raise ValueError("an in-flight batch needs at least one record")
        if not self.free_slots():
            raise ValueError(f"window full: {self.max_batches} batches already in flight")
        batch = InflightBatch(list(records), sent_at=now)
        self._batches.append(batch)
        self._batches.sort(key=lambda b: b.first_seq)
        return batch

    def batch_of(self, record_id: str) -> InflightBatch | None:
        return next((b for b in self._batches if any(r.record_id == record_id for r in b.records)), None)

    def due(self, now: float) -> list[InflightBatch]:
        """Batches whose ack is overdue, lowest seq first."""
        return [b for b in self._batches if now - b.sent_at >= self.ack_timeout_s]

    def mark_resent(self, batch: InflightBatch, now: float) -> None:
        batch.sent_at = now
        batch.attempts += 1

    def expire_all(self) -> None:
        """Make every batch due now: the broker lost its session, so nothing it held for us is coming."""
        for b in self._batches:
            b.sent_at = float("-inf")

    def settle(self, record_ids: set[str]) -> int:
        """Drop records the server has answered for; returns how many batches are now fully answered."""
        done = 0
        kept: list[InflightBatch] = []
        for b in self._batches:
            b.records = [r for r in b.records if r.record_id not in record_ids]
            if b.records:
                kept.append(b)
            else:
                done += 1
        self._batches = kept
        return done
