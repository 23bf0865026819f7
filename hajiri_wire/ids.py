"""Time-ordered record ids (UUIDv7, RFC 9562), monotonic within a process."""

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


def uuid7(unix_ms: int | None = None) -> str:
    """A UUIDv7 string; ids made in one process sort in creation order even within one millisecond."""
    global _last_ms, _last_rand
    with _lock:
        ms = int(time.time() * 1000) if unix_ms is None else unix_ms
        if ms <= _last_ms:
            # Same (or an earlier, after a clock step back) millisecond: keep the timestamp, bump the
            # random part so the order still holds.
            ms = _last_ms
            rand = _last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 6  # 74 random bits
        _last_ms, _last_rand = ms, rand
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def uuid7_unix_ms(value: str) -> int:
    """The millisecond timestamp inside a UUIDv7."""
    return uuid.UUID(value).int >> 80
