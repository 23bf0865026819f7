"""What the sync agent has done so far, as one immutable snapshot for health checks and tests."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncStats:
    """Counters since the agent started, plus the outbox state at the last look."""

    connected: bool = False
    connects: int = 0
    batches_published: int = 0  # every publish, first sends and resends
    records_published: int = 0
    batches_resent: int = 0
    acks_received: int = 0  # well-formed acks for this device
    records_acked: int = 0  # pending -> acked by an ack (stored or duplicate)
    records_rejected: int = 0  # pending -> rejected by an ack
    malformed_acks: int = 0  # undecodable, or addressed to another device; ignored
    inflight_batches: int = 0
    queue_depth: int = 0  # records still pending in the store
    oldest_unsent_age_s: float | None = None  # age (by wall time) of the oldest record not yet acked
    last_error: str | None = None
    heartbeats_sent: int = 0
    clock_offset_s: float | None = None  # server time - local time, from the ack with the shortest round trip
    clock_rtt_s: float | None = None  # that ack's round trip: the offset is good to about half of it
