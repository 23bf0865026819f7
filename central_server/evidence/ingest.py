"""Ingest of spoof evidence: verify the device's signature, check the sealed crop opens, store it once, ack.

Evidence travels apart from records and may come first: it is stored on its own and linked to its record by
record_id whenever that record is (or later gets) stored. A crop for an IN/OUT record is refused: the server
keeps face images of suspected attacks only. Refusals are counted and kept like record refusals.
"""

import functools
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from central_server.attendance.photos import JPEG_MAGIC
from central_server.config import ServerConfig
from central_server.db.schema import evidence, records
from central_server.ingest.guard import Refused, Uplink, active_device
from central_server.ingest.handling import Context, Handled, Publish, Route, run_one
from central_server.ingest.rejections import DEFAULT_REJECTIONS_KEEP, IngestStats, Rejection, write_rejections
from hajiri_common.timefmt import utc_iso
from hajiri_wire import Ack, AckResult, WireError, encode_ack, load_public_key, topics
from hajiri_wire.evidence import EvidenceKey, EvidenceMessage, verify_evidence

log = logging.getLogger(__name__)

EVIDENCE_KEY_ENV = "HAJIRI_EVIDENCE_KEY_FILE"
# Events whose crop a kiosk may send (spoof_and_unknown sites send UNKNOWN ones too); never IN/OUT.
EVIDENCE_EVENTS = ("SPOOF", "UNKNOWN")


def evidence_key_path(config: ServerConfig) -> Path:
    """$HAJIRI_EVIDENCE_KEY_FILE, else evidence.key beside a SQLite database, else ./var/evidence.key."""
    if os.environ.get(EVIDENCE_KEY_ENV):
        return Path(os.environ[EVIDENCE_KEY_ENV])
    if config.database_url.startswith("sqlite:///"):
        return Path(config.database_url[len("sqlite:///"):]).parent / "evidence.key"
    return Path("var") / "evidence.key"


@functools.lru_cache(maxsize=8)
def _key_at(path: Path) -> EvidenceKey:
    key = EvidenceKey.load_or_create(path)
    log.info("evidence key %s (id %s); kiosks need its public key: %s", path, key.key_id, key.public_b64)
    return key


def server_evidence_key(config: ServerConfig) -> EvidenceKey:
    """The server's evidence key (created 0600 on first use), loaded once per path."""
    return _key_at(evidence_key_path(config).resolve())


@dataclass
class EvidenceOutcome:
    """What became of one evidence message: an ack to publish (None when nobody can be told) and a refusal."""

    topic: str
    device_id: str | None
    status: str | None = None  # stored | duplicate | rejected
    ack: Ack | None = None
    rejection: Rejection | None = None


def ingest_evidence(engine: Engine, topic: str, payload: bytes, key: EvidenceKey, *,
                    stats: IngestStats | None = None,
                    rejections_keep: int = DEFAULT_REJECTIONS_KEEP) -> EvidenceOutcome:
    """Handle one evidence message. Never raises: bad input and DB failures become an outcome."""
    return run_one(Context(engine, stats, rejections_keep, evidence_key=lambda: key), ROUTE, topic, payload).report


def _ack(device_id: str, record_id: str, status: str, reason: str | None = None) -> Ack:
    return Ack(device_id=device_id, server_time=utc_iso(time.time()),
               results=[AckResult(record_id=record_id, status=status, reason=reason)])


def handle_evidence(ctx: Context, uplink: Uplink) -> Handled:
    """The evidence route: judge and store the crop once; its ack (after the commit) is what to publish."""
    outcome = _store(ctx, uplink)
    publish = [] if outcome.ack is None else [Publish(topics.evidence_acks(uplink.device_id),
                                                      encode_ack(outcome.ack))]
    rejections = [] if outcome.rejection is None else [outcome.rejection]
    return Handled(report=outcome, publish=publish, rejections=rejections)


def refused_evidence(_ctx: Context, topic: str, refused: Refused) -> Handled:
    """Refused before its signature was checked: never answered (a forgery could make a kiosk drop a crop)."""
    rejection = refused.rejection
    return Handled(report=EvidenceOutcome(topic, rejection.device_id, "rejected", rejection=rejection))


def _store(ctx: Context, uplink: Uplink) -> EvidenceOutcome:
    topic, device_id, msg = uplink.topic, uplink.device_id, uplink.message
    with ctx.engine.begin() as conn:
        device = active_device(conn, uplink)
        problem = _judge(conn, msg, device.public_key, ctx.evidence_key())
        if problem is not None:
            reason, detail = problem
            if reason == "duplicate":
                return EvidenceOutcome(topic, device_id, "duplicate", _ack(device_id, msg.record_id, "duplicate"))
            rejection = Rejection(reason, detail, device_id, msg.record_id)
            write_rejections(conn, topic, uplink.payload, [rejection], keep=ctx.rejections_keep)
            # Told to the kiosk only when its own signature proves the message came from it: then a resend
            # would be refused again, so it may stop.
            ack = None if reason == "bad_signature" else _ack(device_id, msg.record_id, "rejected", reason)
            return EvidenceOutcome(topic, device_id, "rejected", ack, rejection)
        conn.execute(sa.insert(evidence).values(
            record_id=msg.record_id, device_id=device_id, site_id=device.site_id, taken_at=msg.taken_at,
            received_at=utc_iso(time.time()), server_key_id=msg.server_key_id, sealed=uplink.payload.decode(),
            sealed_sha256=hashlib.sha256(uplink.payload).hexdigest(), review_status="pending"))
    log.info("evidence for record %s from %s stored (pending review)", msg.record_id, device_id)
    return EvidenceOutcome(topic, device_id, "stored", _ack(device_id, msg.record_id, "stored"))


def _judge(conn: sa.Connection, msg: EvidenceMessage, public_key_b64: str,
           key: EvidenceKey) -> tuple[str, str] | None:
    """None when the evidence is new and good, ("duplicate", "") or (reason, what was wrong)."""
    try:
        verify_evidence(msg, load_public_key(public_key_b64))
    except WireError as e:
        return "bad_signature", f"evidence for record {msg.record_id}: {e}"
    try:
        jpeg = key.open(msg)
    except WireError as e:
        return e.reason, f"evidence for record {msg.record_id}: {e}"
    if not jpeg.startswith(JPEG_MAGIC):
        return "evidence_not_jpeg", f"evidence for record {msg.record_id} opens, but is not a JPEG image"
    stored = conn.execute(sa.select(evidence.c.device_id).where(evidence.c.record_id == msg.record_id)).first()
    if stored is not None:
        if stored.device_id == msg.device_id:
            return "duplicate", ""  # a resend (resealed, so its bytes differ): the first one stays
        return "record_id_conflict", f"evidence for record {msg.record_id} is already stored from {stored.device_id}"
    rec = conn.execute(sa.select(records.c.device_id, records.c.event)
                       .where(records.c.record_id == msg.record_id)).first()
    if rec is not None and rec.device_id != msg.device_id:
        return "evidence_record_mismatch", f"record {msg.record_id} belongs to {rec.device_id}, not {msg.device_id}"
    if rec is not None and rec.event not in EVIDENCE_EVENTS:
        return "evidence_for_attendance", (f"record {msg.record_id} is an {rec.event} record: no face image is "
                                           "kept for attendance")
    return None


def open_stored(row: sa.Row, key: EvidenceKey) -> bytes:
    """The JPEG of a stored evidence row (decrypted now, in memory only)."""
    return key.open(EvidenceMessage.model_validate_json(row.sealed))


ROUTE = Route("evidence", handle_evidence, refused_evidence)
