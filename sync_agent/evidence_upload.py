"""Spoof evidence uplink: send the kiosk's kept crops, sealed to the server's key, after the records; delete each
crop only when the server acks it (stored, duplicate, or refused for good).

Low priority: the agent pumps evidence only while no record is waiting, a couple of crops at a time, so a crop
never delays attendance. Without a server key in the kiosk config the crops stay on the kiosk (encrypted,
retention-limited) and the heartbeat says so (evidence_uplink = false).
"""

import logging
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from hajiri_common.timefmt import utc_iso
from hajiri_wire import Ack, WireError, decode_ack, topics
from hajiri_wire.evidence import EvidenceKeyError, encode_evidence, load_evidence_public_key, seal_evidence
from kiosk.config import KioskConfig, load_kiosk_config
from kiosk.evidence import EvidenceError, EvidenceStore, open_evidence
from provisioning.identity import DeviceIdentity

log = logging.getLogger(__name__)

MAX_INFLIGHT = 2


class EvidenceUploader:
    """Publishes crops at QoS 1 on up/evidence and applies the evidence acks that come back."""

    def __init__(self, identity: DeviceIdentity, kiosk: KioskConfig, ack_timeout_s: float,
                 max_inflight: int = MAX_INFLIGHT) -> None:
        self.identity = identity
        self.kiosk = kiosk
        self.store: EvidenceStore | None = open_evidence(kiosk)
        self.ack_timeout_s = ack_timeout_s
        self.max_inflight = max_inflight
        self._inflight: dict[str, float] = {}  # record_id -> monotonic time sent
        self.sent = self.acked = self.refused = 0
        key = kiosk.evidence.server_public_key
        try:
            self.server_public = None if key is None else load_evidence_public_key(key)
        except EvidenceKeyError as e:
            raise EvidenceKeyError(f"evidence.server_public_key in the kiosk config: {e}") from e

    @property
    def uplink(self) -> bool:
        return self.store is not None and self.server_public is not None

    def pending(self) -> int:
        return 0 if self.store is None else len(self.store.items())

    def forget_inflight(self) -> None:
        """The broker lost our session: whatever was in flight is sent again."""
        self._inflight.clear()

    def pump(self, client: mqtt.Client, now: float | None = None) -> int:
        """Publish the oldest crops not in flight (and resend overdue ones); returns how many were published.
        A file-system error is logged and tried again next round: evidence never stops the record sync."""
        if not self.uplink:
            return 0
        try:
            return self._pump(client, now)
        except OSError as e:
            log.warning("evidence folder trouble, will retry: %s", e)
            return 0

    def _pump(self, client: mqtt.Client, now: float | None) -> int:
        now = time.monotonic() if now is None else now
        for record_id, sent in list(self._inflight.items()):
            if now - sent > self.ack_timeout_s:
                del self._inflight[record_id]  # no ack in time: free the slot, it goes again below
        published = 0
        for item in self.store.items():
            if len(self._inflight) >= self.max_inflight:
                break
            if item.record_id in self._inflight:
                continue
            try:
                jpeg, taken_ms = self.store.read(item.record_id)
                msg = seal_evidence(jpeg, device_id=self.identity.device_id, record_id=item.record_id,
                                    taken_at=utc_iso(taken_ms / 1000), device_key=self.identity.key,
                                    server_public=self.server_public)
            except (EvidenceError, WireError) as e:
                # It can never be sent (altered on disk, or too big): drop it rather than retry forever.
                log.error("evidence crop %s cannot be sent and is deleted: %s", item.record_id, e)
                self.store.delete(item.record_id)
                continue
            info = client.publish(topics.evidence(self.identity.device_id), encode_evidence(msg), qos=1)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning("publish of evidence %s failed: %s", item.record_id, mqtt.error_string(info.rc))
            self._inflight[item.record_id] = now
            self.sent += 1
            published += 1
        return published

    def handle_ack(self, payload: bytes) -> int:
        """Delete the crops the server answered for; returns how many were deleted. A bad ack is ignored."""
        try:
            ack = decode_ack(payload)
        except WireError as e:
            log.warning("ignored a malformed evidence ack (%s): %s", e.reason, e)
            return 0
        if ack.device_id != self.identity.device_id:
            log.warning("ignored an evidence ack addressed to %r", ack.device_id)
            return 0
        return self._apply(ack)

    def _apply(self, ack: Ack) -> int:
        deleted = 0
        for result in ack.results:
            self._inflight.pop(result.record_id, None)
            if result.status == "rejected":
                self.refused += 1
                log.warning("server refused evidence %s (%s); deleted here, a resend would be refused too",
                            result.record_id, result.reason)
            else:
                self.acked += 1
            try:
                if self.store is not None and self.store.delete(result.record_id):
                    deleted += 1
            except OSError as e:  # acked all the same: retention removes it if this keeps failing
                log.warning("evidence %s acked but not deleted: %s", result.record_id, e)
        return deleted

    def heartbeat_facts(self) -> dict:
        """What the heartbeat says about liveness and evidence (see hajiri_wire.messages.Heartbeat)."""
        return {"liveness_enabled": self.kiosk.liveness.enabled, "evidence_pending": self.pending(),
                "evidence_uplink": self.uplink}


def make_uploader(kiosk_config: Path | None, identity: DeviceIdentity,
                  ack_timeout_s: float) -> EvidenceUploader | None:
    """The uploader for the kiosk config at `kiosk_config` (the sync config's `kiosk_config`), or None."""
    if kiosk_config is None:
        return None
    uploader = EvidenceUploader(identity, load_kiosk_config(kiosk_config), ack_timeout_s)
    if uploader.store is not None and not uploader.uplink:
        log.warning("no evidence.server_public_key in %s: spoof evidence crops stay on this kiosk", kiosk_config)
    return uploader
