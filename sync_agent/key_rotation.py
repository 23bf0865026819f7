"""The kiosk end of a signing key rotation: make the new key, ask the server (resent until answered), then swap.

The request is kept on disk beside the pending key, so a sync agent killed before the answer sends it again at
its next start; the server answers a repeat of a request it already accepted with "accepted" again. Only an
answer signed by the server's downlink key changes anything here.
"""

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt

from hajiri_common.files import write_atomic
from hajiri_common.timefmt import utc_iso
from hajiri_wire import WireError, topics
from hajiri_wire.key_rotation import (
    decode_answer,
    decode_rotation,
    encode_rotation,
    sign_rotation,
    verify_answer,
)
from provisioning.identity import (
    IDENTITY_FILE,
    DeviceIdentity,
    IdentityError,
    create_pending_key,
    discard_pending_key,
    load_identity,
    load_server_key,
    pending_key,
    swap_signing_key,
)

log = logging.getLogger(__name__)

REQUEST_FILE = "key_rotation_request.json"


class KeyRotator:
    """One device's rotation: at most one request outstanding, kept in `device_dir/key_rotation_request.json`."""

    def __init__(self, device_dir: Path, identity: DeviceIdentity, *, resend_s: float,
                 on_swap: Callable[[DeviceIdentity], None], on_error: Callable[[str], None] = log.warning) -> None:
        self.device_dir = Path(device_dir)
        self.device_id = identity.device_id
        self.resend_s = resend_s
        self._on_swap = on_swap
        self._on_error = on_error
        self._next_send = 0.0
        self.swaps = 0
        self.refusals = 0
        try:
            self.server_key = load_server_key(self.device_dir)
        except IdentityError:
            self.server_key = None
        self._request: bytes | None = None
        with contextlib.suppress(FileNotFoundError):
            self._request = (self.device_dir / REQUEST_FILE).read_bytes()
        try:
            self._finish_half_done_swap()
        except (IdentityError, OSError, ValueError) as e:  # load_identity still serves the key device.json names
            self._on_error(f"could not finish a half-done key swap yet: {e}")

    @property
    def pending(self) -> bool:
        return self._request is not None

    def _finish_half_done_swap(self) -> None:
        # device.json already names the pending key: the server accepted it and a swap stopped half way.
        key = pending_key(self.device_dir)
        if key is None:
            return
        doc = json.loads((self.device_dir / IDENTITY_FILE).read_text())
        if doc.get("public_key") == key.public_b64:
            # No on_swap: load_identity already gives the key device.json names (the caller's identity).
            self._swap("finished a key swap that stopped half way", notify=False)

    def begin(self, requested_version: int) -> str:
        """On a `rotate_key` command: a new pending key (or the one already waiting) and a signed request."""
        if self.server_key is None:
            raise IdentityError("no server key installed: the server's answer could not be verified")
        current = load_identity(self.device_dir)
        new = pending_key(self.device_dir) or create_pending_key(self.device_dir)
        msg = sign_rotation(self.device_id, current.key, new, requested_version, utc_iso(time.time()))
        data = encode_rotation(msg)
        write_atomic(self.device_dir / REQUEST_FILE, data)
        self._request, self._next_send = data, 0.0
        return f"rotate_key: new key {new.public_b64[:12]}… requested, waiting for the server"

    def pump(self, client: mqtt.Client) -> None:
        """Publish the outstanding request (QoS 1) now and every `resend_s` until it is answered."""
        now = time.monotonic()
        if self._request is None or now < self._next_send:
            return
        self._next_send = now + self.resend_s
        client.publish(topics.key_rotation(self.device_id), self._request, qos=1)

    def handle_answer(self, payload: bytes) -> str | None:
        """Apply the server's answer; returns what happened (None: ignored, and why is logged)."""
        try:
            answer = decode_answer(payload)
            if self.server_key is None:
                raise WireError("no server key installed", reason="unknown_key")
            verify_answer(answer, self.server_key)
        except WireError as e:
            self._on_error(f"ignored a key rotation answer ({e.reason}): {e}")
            return None
        if self._request is None or answer.device_id != self.device_id:
            return None  # a repeat of an answer already applied, or not ours
        request = decode_rotation(self._request)
        if answer.new_public_key != request.new_public_key:
            return None  # about an earlier request
        try:
            if answer.outcome == "accepted":
                return self._swap(f"key rotation v{answer.requested_version} accepted")
            discard_pending_key(self.device_dir)
        except (IdentityError, OSError) as e:
            # Nothing is lost: the request stays, is resent, and the server answers it again.
            self._on_error(f"key rotation answer not applied yet: {e}")
            return None
        self.refusals += 1
        self._forget_request()
        message = f"key rotation v{answer.requested_version} refused ({answer.reason}): {answer.detail}"
        self._on_error(message)
        return message

    def _swap(self, why: str, notify: bool = True) -> str:
        identity = swap_signing_key(self.device_dir)
        self._forget_request()
        self.swaps += 1
        if notify:
            self._on_swap(identity)
        log.info("%s: now signing with %s…", why, identity.public_key_b64[:12])
        return why

    def _forget_request(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.device_dir / REQUEST_FILE)
        self._request = None
