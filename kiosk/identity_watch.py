"""Between frames: notice that the sync agent rotated the signing key (device.json changed) and sign with the new one."""

import logging
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.gallery_watch import FileChange
from provisioning.identity import IDENTITY_FILE, DeviceIdentity, IdentityError, load_identity

log = logging.getLogger(__name__)


class IdentityWatch:
    """Polls device.json's signature at most every `interval_s`; a changed file is loaded as the new identity.

    A file that does not load (mid-write, or another device's) is logged and the running identity kept: the
    records it signs still verify centrally, the server keeps a rotated device's old keys for that.
    """

    def __init__(self, device_dir: Path, identity: DeviceIdentity, interval_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device_dir, self.identity = Path(device_dir), identity
        self._change = FileChange(self.device_dir / IDENTITY_FILE, interval_s, clock)
        self.reloads = 0

    def poll(self) -> DeviceIdentity:
        """The identity to sign with now: one stat at most every interval when nothing changed."""
        if not self._change.changed():
            return self.identity
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
