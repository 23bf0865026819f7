"""The kiosk end of the downlink: verify each server envelope, apply it, refuse and report anything else.

Subscriptions are QoS 0 on purpose. The server publishes every version retained at QoS 1, so the broker keeps
exactly one message per device and kind, the latest, durably; every connect re-subscribes and so receives it.
Nothing older is queued in the persistent session: a kiosk back after a week downloads the latest gallery
once, not every version it missed. A message lost with a dropped connection comes again at the reconnect.
"""

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt

from hajiri_common.config import ConfigError, load_config
from hajiri_common.files import write_atomic
from hajiri_common.timefmt import utc_iso
from hajiri_wire import WireError, topics
from hajiri_wire.downlink import (
    CannotDecrypt,
    Command,
    DownlinkEnvelope,
    DownlinkStatus,
    NoticeList,
    SealedPayload,
    SiteConfig,
    decode_envelope,
    decode_gallery_content,
    encode_status,
    open_sealed,
    parse_payload,
    seal_aad,
    verify_envelope,
)
from kiosk.config import KioskConfig
from kiosk.gallery import Gallery, GalleryError, default_key_path, load_gallery
from kiosk.screen import NOTICES_FILE
from provisioning.identity import DeviceIdentity, IdentityError, load_server_key
from sync_agent.config import SyncConfig

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
SITE_CONFIG_FILE = "site_config.json"
COMMANDS_FILE = "commands.jsonl"
MAX_PENDING_REPORTS = 100


class Refused(WireError):
    """An envelope that verified but cannot be applied (a gallery the kiosk cannot use, a config out of bounds)."""

    reason = "unusable"


@dataclasses.dataclass
class DownlinkStats:
    """What the downlink did since start: applied and refused (by reason), and replays of what is in effect."""

    applied: int = 0
    refused: int = 0
    repeats: int = 0
    refused_by_reason: dict[str, int] = dataclasses.field(default_factory=dict)
    last_refusal: str | None = None


def gallery_paths(config: SyncConfig) -> tuple[Path, Path]:
    """Where the kiosk reads its gallery and key: the downlink settings, else the kiosk's own config."""
    d = config.downlink
    if d.gallery_path is not None:
        return d.gallery_path, d.gallery_key_path or default_key_path(d.gallery_path)
    kiosk = KioskConfig()
    if config.kiosk_config is not None:
        with contextlib.suppress(ConfigError, OSError):
            kiosk = load_config(KioskConfig, config.kiosk_config)
    return kiosk.gallery_path, d.gallery_key_path or kiosk.key_path


class Downlink:
    """Verifies and applies downlinks for one device; keeps the applied version per kind in state.json."""

    def __init__(self, config: SyncConfig, identity: DeviceIdentity, *,
                 on_error: Callable[[str], None] = log.warning,
                 on_resync: Callable[[], None] | None = None,
                 on_rotate_key: Callable[[int], str] | None = None) -> None:
        self.enabled = config.downlink.enabled
        self.device_id = identity.device_id
        self.identity = identity
        self.state_dir = config.downlink.state_dir
        self.gallery_path, self.gallery_key_path = gallery_paths(config)
        self._on_error = on_error
        self._on_resync = on_resync
        self._on_rotate_key = on_rotate_key
        self._state: dict[str, dict] | None = None
        self._reports: list[DownlinkStatus] = []
        self.stats = DownlinkStats()
        try:
            self.server_key = load_server_key(config.device_dir)
        except IdentityError as e:
            self.server_key = None
            log.error("downlink: %s; every downlink will be refused", e)
        if self.enabled and self.server_key is None:
            # Info, not a warning: a kiosk without downlinks set up is a valid configuration; refusals warn.
            log.info("downlink: no server key in %s (server_key.pub); every downlink will be refused until "
                        "`hajiri provision --server-key ...` installs it", config.device_dir)
        if self.enabled and identity.enc_key is None:
            log.info("downlink: identity has no X25519 key; galleries cannot be decrypted until "
                        "`hajiri provision --add-enc-key` adds one and it is registered centrally")

    # ---- MQTT -------------------------------------------------------------------------------------------

    def subscriptions(self) -> list[tuple[str, int]]:
        """QoS 0: see the module docstring (retained latest on every subscribe, nothing older queued)."""
        if not self.enabled:
            return []
        return [(topics.downlink(kind, self.device_id), 0) for kind in topics.DOWNLINK_KINDS]

    def wants(self, topic: str) -> bool:
        return self.enabled and topics.downlink_kind_of(topic) is not None and topics.device_of(topic) == \
            self.device_id

    def send_reports(self, client: mqtt.Client) -> None:
        """Publish queued reports (QoS 1; paho holds them while the connection is down)."""
        while self._reports:
            status = self._reports.pop(0)
            client.publish(topics.downlink_status(self.device_id), encode_status(status), qos=1)

    # ---- state ------------------------------------------------------------------------------------------

    def state(self) -> dict[str, dict]:
        """{kind: {"version", "sha256", "applied_at"}} of what is in effect (read once, then kept in memory)."""
        if self._state is None:
            try:
                self._state = json.loads((self.state_dir / STATE_FILE).read_text())
            except FileNotFoundError:
                self._state = {}
            except (OSError, ValueError) as e:
                # Unreadable state must not unlock rollbacks: refuse everything until someone looks.
                raise Refused(f"downlink state {self.state_dir / STATE_FILE} unreadable: {e}",
                              reason="state_unreadable") from e
        return self._state

    def applied_version(self, kind: str) -> int | None:
        entry = self.state().get(kind)
        return None if entry is None else int(entry["version"])

    def _save_state(self, env: DownlinkEnvelope, payload: bytes) -> None:
        state = dict(self.state())
        # The digest of the exact bytes applied: only those very bytes, delivered again, count as a repeat.
        state[env.kind] = {"version": env.version, "sha256": hashlib.sha256(payload).hexdigest(),
                           "applied_at": utc_iso(time.time())}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.state_dir / STATE_FILE, json.dumps(state, indent=2).encode())
        self._state = state

    # ---- handling ---------------------------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> str:
        """Verify and apply one message; returns 'applied', 'refused' or 'repeat'. Never raises for bad input."""
        kind = topics.downlink_kind_of(topic)
        env: DownlinkEnvelope | None = None
        try:
            env = decode_envelope(payload, kind)
            entry = self.state().get(env.kind)
            if entry is not None and entry.get("sha256") == hashlib.sha256(payload).hexdigest():
                # The retained message we already applied, delivered again at a (re)subscribe: nothing to do.
                self.stats.repeats += 1
                return "repeat"
            verify_envelope(env, server_key=self.server_key, device_id=self.device_id,
                            last_version=self.applied_version(env.kind), topic_kind=kind)
            detail = self._apply(env)
        except WireError as e:
            self._refuse(kind if env is None else env.kind, None if env is None else env.version, e)
            return "refused"
        except Exception as e:  # an apply that fails for any other reason keeps the old state and is reported
            log.exception("downlink apply failed")
            self._refuse(env.kind if env else kind, env.version if env else None,
                         Refused(f"{type(e).__name__}: {e}", reason="apply_failed"))
            return "refused"
        self._save_state(env, payload)
        self.stats.applied += 1
        log.info("downlink: applied %s v%d (%s)", env.kind, env.version, detail)
        self._report(env.kind, env.version, "applied", None, detail)
        return "applied"

    def _apply(self, env: DownlinkEnvelope) -> str:
        body = parse_payload(env)
        if isinstance(body, SealedPayload):
            return self._apply_gallery(env, body)
        if isinstance(body, SiteConfig):
            return self._apply_config(env, body)
        if isinstance(body, NoticeList):
            return self._apply_notices(env, body)
        return self._apply_command(env, body)

    def _apply_gallery(self, env: DownlinkEnvelope, sealed: SealedPayload) -> str:
        if self.identity.enc_key is None:
            raise CannotDecrypt("this kiosk has no X25519 key (run `hajiri provision --add-enc-key`)")
        content = decode_gallery_content(open_sealed(sealed, self.identity.enc_key,
                                                     seal_aad(self.device_id, env.version)))
        running = self._gallery_model()
        if running is not None and content.model_version != running:
            # Templates of another model cannot be compared with this kiosk's embeddings: every match is noise.
            raise Refused(f"gallery v{env.version} was enrolled with {content.model_version}, the kiosk's gallery "
                          f"with {running}", reason="model_mismatch")
        ids, matrix, names = content.template_rows()
        gallery = Gallery(content.model_version)
        try:
            if ids:
                gallery.add_many(ids, matrix, names)
        except GalleryError as e:
            raise Refused(f"gallery v{env.version} cannot be used: {e}", reason="bad_gallery") from e
        # Atomic replace, encrypted at rest under the kiosk's own gallery key; the kiosk's watcher swaps it in.
        self.gallery_path.parent.mkdir(parents=True, exist_ok=True)
        gallery.save(self.gallery_path, self.gallery_key_path)
        return f"{len(gallery.people)} people, {len(gallery)} templates"

    def _gallery_model(self) -> str | None:
        """The model version of the gallery file the kiosk runs now (None: no readable file yet)."""
        if not self.gallery_path.exists():
            return None
        try:
            return load_gallery(self.gallery_path, self.gallery_key_path).model_version
        except GalleryError as e:
            log.warning("downlink: the current gallery file does not load (%s); replacing it", e)
            return None

    def _apply_config(self, env: DownlinkEnvelope, config: SiteConfig) -> str:
        overrides = config.kiosk_overrides()
        try:
            KioskConfig.model_validate(overrides)  # the kiosk's own bounds, not only the server's word
        except ValueError as e:
            raise Refused(f"config v{env.version} is outside the kiosk's bounds: {e}", reason="bad_config") from e
        doc = {"version": env.version, "issued_at": env.issued_at, "kiosk_overrides": overrides,
               "shifts": [s.model_dump() for s in config.shifts]}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.state_dir / SITE_CONFIG_FILE, json.dumps(doc, indent=2).encode(), 0o644)
        return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "no overrides"

    def _apply_notices(self, env: DownlinkEnvelope, notices: NoticeList) -> str:
        """The whole list replaces the last one; the kiosk screen reads it (so readable by its user: 0644)."""
        doc = {"version": env.version, "issued_at": env.issued_at,
               "notices": [n.model_dump() for n in notices.notices]}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.state_dir / NOTICES_FILE, json.dumps(doc, indent=2).encode(), 0o644)
        return f"{len(notices.notices)} notice(s)"

    def _apply_command(self, env: DownlinkEnvelope, command: Command) -> str:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"version": env.version, "issued_at": env.issued_at, "command": command.command,
                           "note": command.note, "received_at": utc_iso(time.time())})
        with open(self.state_dir / COMMANDS_FILE, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        if command.command == "resync" and self._on_resync is not None:
            self._on_resync()
            return "resync: every unacked batch goes out again"
        if command.command == "rotate_key" and self._on_rotate_key is not None:
            return self._on_rotate_key(env.version)  # sync_agent/key_rotation.py; the swap waits for the server
        if command.command == "reload" and self.gallery_path.exists():
            os.utime(self.gallery_path)  # a new mtime: the kiosk's gallery watch loads the file again
            return "reload: gallery file touched"
        return f"{command.command}: recorded in {COMMANDS_FILE} for the operator"

    def _refuse(self, kind: str | None, version: int | None, e: WireError) -> None:
        self.stats.refused += 1
        self.stats.refused_by_reason[e.reason] = self.stats.refused_by_reason.get(e.reason, 0) + 1
        message = f"downlink {kind or '?'} v{version or '?'} refused ({e.reason}): {e}"
        self.stats.last_refusal = message
        self._on_error(message)
        current = None
        if kind is not None:
            with contextlib.suppress(WireError):
                current = self.applied_version(kind)
        self._report(kind, version, "refused", e.reason, str(e), current)

    def _report(self, kind: str | None, version: int | None, outcome: str, reason: str | None,
                detail: str | None, current: int | None = None) -> None:
        if outcome == "applied":
            current = version
        status = DownlinkStatus(device_id=self.device_id, kind=kind, version=version, outcome=outcome,
                                reason=None if reason is None else reason[:64],
                                detail=None if detail is None else detail[:500], current_version=current,
                                at=utc_iso(time.time()))
        self._reports = [*self._reports, status][-MAX_PENDING_REPORTS:]
