"""Exponential reconnect backoff with jitter, so a site's kiosks do not hammer a broker that just came back."""

import random


class Backoff:
    """Delays that double from `min_s` up to `max_s`, each shortened at random by up to `jitter` of itself."""

    def __init__(self, min_s: float, max_s: float, jitter: float, rng: random.Random | None = None) -> None:
        if not 0 < min_s <= max_s:
            raise ValueError(f"backoff needs 0 < min_s <= max_s, got {min_s}, {max_s}")
        if not 0 <= jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {jitter}")
        self.min_s, self.max_s, self.jitter = min_s, max_s, jitter
        self._rng = rng or random.Random()
        self._attempt = 0

    def next_delay(self) -> float:
        """The wait before the next attempt; each call counts one more failure."""
        base = min(self.max_s, self.min_s * 2 ** min(self._attempt, 32))
        self._attempt += 1
        return base * (1 - self.jitter * self._rng.random())

    def reset(self) -> None:
        """After a good connection the next failure starts from `min_s` again."""
        self._attempt = 0
