"""Between frames: notice that the sync agent rotated the signing key (device.json changed) and sign with the new one."""

import logging
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.gallery_watch import file_signature
from provisioning.identity import IDENTITY_FILE, DeviceIdentity, IdentityError, load_identity

log = logging.getLogger(__name__)


class IdentityWatch:
    """Polls device.json's signature at most every `interval_s`; a changed file is loaded as the new identity.

    A file that does not load (mid-write, or another device's) is logged and the running identity kept: the
    records it signs still verify centrally, the server keeps a rotated device's old keys for that.
    """

    def __init__(self, device_dir: Path, identity: DeviceIdentity, interval_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device_dir, self.identity, self.interval_s, self._clock = Path(device_dir), identity, interval_s, clock
        self._seen = file_signature(self.device_dir / IDENTITY_FILE)
        self._next = clock() + interval_s
        self.reloads = 0

    def poll(self) -> DeviceIdentity:
        """The identity to sign with now: one stat at most every interval when nothing changed."""
        if self.interval_s <= 0 or self._clock() < self._next:
            return self.identity
        self._next = self._clock() + self.interval_s
        sig = file_signature(self.device_dir / IDENTITY_FILE)
        if sig is None or sig == self._seen:
            return self.identity
        self._seen = sig
        try:
            identity = load_identity(self.device_dir)
        except IdentityError as e:
            log.error("device identity changed but does not load, keeping the running key: %s", e)
            return self.identity
        if (identity.device_id, identity.site_id) != (self.identity.device_id, self.identity.site_id):
            log.error("device identity changed to %s/%s; keeping %s/%s until a restart", identity.device_id,
                      identity.site_id, self.identity.device_id, self.identity.site_id)
            return self.identity
        if identity.public_key_b64 != self.identity.public_key_b64:
            self.reloads += 1
            log.info("signing key rotated: records are now signed with %s…", identity.public_key_b64[:12])
        self.identity = identity
        return identity
