"""Downlink versions: build, sign and store gallery, config and command envelopes for each target device, and
derive each device's notices envelope from the notices table."""

import time
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from pydantic import ValidationError

from central_server.access.audit import write_audit
from central_server.db.schema import devices, downlink_status, downlink_versions
from central_server.downlink.keys import get_enc_key
from central_server.errors import Conflict, Invalid, NotFound
from central_server.field.tasks import notices_for_site, sites_reached
from edge_models.thresholds import match_margin, match_threshold
from hajiri_common.timefmt import parse_utc_iso, utc_iso
from hajiri_wire import DeviceKey, topics
from hajiri_wire.downlink import (
    MAX_BYTES,
    NOTICE_TEXT_CHARS,
    Command,
    GalleryContent,
    KioskNotice,
    SiteConfig,
    encode_envelope,
    encode_gallery_content,
    seal,
    seal_aad,
    sign_envelope,
)
from hajiri_wire.site_config import SiteSettings


class DownlinkError(Invalid):
    """A downlink that cannot be made as asked (422); the message names what was wrong."""


class NoTargets(NotFound, DownlinkError):
    """No active device matches the request (unknown ids, revoked devices, an empty site)."""


class NoEncKey(Conflict, DownlinkError):
    """A gallery for a device whose X25519 key was never registered: it could not decrypt it."""


@dataclass(frozen=True)
class Stored:
    """One stored downlink version and the bytes that go on its topic (id None: derived, not a stored row)."""

    id: int | None
    device_id: str
    kind: str
    version: int
    envelope: bytes

    @property
    def topic(self) -> str:
        return topics.downlink(self.kind, self.device_id)


def target_devices(conn: sa.Connection, site_id: str | None, device_ids: list[str] | None) -> list[str]:
    """The active devices named (each must exist and be active), or every active device of the site."""
    if (site_id is None) == (device_ids is None):
        raise DownlinkError("give exactly one of site_id or device_ids")
    if device_ids is not None:
        rows = {r.device_id: r.status for r in conn.execute(
            sa.select(devices.c.device_id, devices.c.status).where(devices.c.device_id.in_(device_ids)))}
        unknown = [d for d in device_ids if d not in rows]
        revoked = [d for d in device_ids if rows.get(d) == "revoked"]
        if unknown or revoked:
            raise NoTargets(f"not registered: {unknown}; revoked: {revoked}")
        return list(dict.fromkeys(device_ids))
    found = [r.device_id for r in conn.execute(sa.select(devices.c.device_id).where(
        devices.c.site_id == site_id, devices.c.status == "active").order_by(devices.c.device_id))]
    if not found:
        raise NoTargets(f"site {site_id!r} has no active device")
    return found


def next_version(conn: sa.Connection, device_id: str, kind: str) -> int:
    latest = conn.execute(sa.select(sa.func.max(downlink_versions.c.version)).where(
        downlink_versions.c.device_id == device_id, downlink_versions.c.kind == kind)).scalar()
    return 1 if latest is None else int(latest) + 1


def _store(conn: sa.Connection, key: DeviceKey, device_id: str, kind: str, version: int, payload: dict,
           summary: str, actor: str) -> Stored:
    env = sign_envelope(kind, device_id, version, payload, key)
    data = encode_envelope(env)
    if len(data) > MAX_BYTES[kind]:
        # The broker and the kiosk would both drop it: say so now, before anything is stored.
        raise DownlinkError(f"{kind} for {device_id} is {len(data)} bytes signed and sealed, more than the "
                            f"{MAX_BYTES[kind]} a downlink may be (a gallery holds about 1,350 one-template people)")
    new_id = conn.execute(sa.insert(downlink_versions).values(
        device_id=device_id, kind=kind, version=version, issued_at=env.issued_at, key_id=env.key_id,
        envelope=data.decode(), summary=summary, created_by=actor, published_at=None)
        .returning(downlink_versions.c.id)).scalar_one()
    write_audit(conn, actor, f"downlink.{kind}", device_id, f"v{version}: {summary}")
    return Stored(int(new_id), device_id, kind, version, data)


def check_gallery(content: GalleryContent) -> str:
    """Refuse templates a kiosk would refuse (zero, not finite); returns a summary for the audit log."""
    ids, matrix, _ = content.template_rows()
    norms = np.linalg.norm(matrix, axis=1) if len(ids) else np.zeros(0)
    bad = [ids[i] for i in np.flatnonzero(~np.isfinite(norms) | (norms == 0))]
    if bad:
        raise DownlinkError(f"template of {bad[0]!r} is zero or not finite")
    return f"{len(content.people)} people, {len(ids)} templates, {content.model_version}"


def make_gallery(conn: sa.Connection, key: DeviceKey, device_ids: list[str], content: GalleryContent, *,
                 actor: str) -> list[Stored]:
    """One sealed gallery version per device: the same people, encrypted to each device's own X25519 key."""
    summary = check_gallery(content)
    plain = encode_gallery_content(content)
    out = []
    for device_id in device_ids:
        enc_key = get_enc_key(conn, device_id)
        if enc_key is None:
            raise NoEncKey(f"device {device_id!r} has no X25519 key registered; PUT "
                           f"/api/v1/downlink/devices/{device_id}/enc-key with its enc_public_key")
        version = next_version(conn, device_id, "gallery")
        sealed = seal(plain, enc_key, seal_aad(device_id, version))
        out.append(_store(conn, key, device_id, "gallery", version, sealed.model_dump(), summary, actor))
    return out


def check_site_config(config: SiteConfig) -> None:
    """The wire's site settings (the kiosk checks the same bounds) must accept these over the kiosk's defaults,
    or the kiosk would refuse them."""
    overrides = config.kiosk_overrides()
    try:
        SiteSettings.model_validate({"match_threshold": match_threshold(), "match_margin": match_margin(),
                                     **overrides})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise DownlinkError(f"config.{where}: {first['msg']}") from e
    for shift in config.shifts:
        if shift.start == shift.end:
            raise DownlinkError(f"config.shifts: {shift.name!r} starts and ends at {shift.start}")


def make_config(conn: sa.Connection, key: DeviceKey, device_ids: list[str], config: SiteConfig, *,
                actor: str) -> list[Stored]:
    check_site_config(config)
    payload = config.model_dump(mode="json")
    summary = ", ".join(f"{k}={v}" for k, v in config.kiosk_overrides().items()) or "no overrides"
    summary += f"; {len(config.shifts)} shift(s)"
    return [_store(conn, key, d, "config", next_version(conn, d, "config"), payload, summary, actor)
            for d in device_ids]


def make_command(conn: sa.Connection, key: DeviceKey, device_ids: list[str], command: Command, *,
                 actor: str) -> list[Stored]:
    payload = command.model_dump(mode="json")
    return [_store(conn, key, d, "command", next_version(conn, d, "command"), payload, command.command, actor)
            for d in device_ids]


# How many of a site's newest notices go to its kiosks (fewer when they would not fit the notices size cap).
NOTICES_ON_KIOSK = 10


def kiosk_notice(row: dict) -> KioskNotice:
    """A stored notice as a kiosk shows it: the text cut to NOTICE_TEXT_CHARS (the phone app has it whole)."""
    text = row["body"] if len(row["body"]) <= NOTICE_TEXT_CHARS else row["body"][:NOTICE_TEXT_CHARS - 1] + "…"
    return KioskNotice(id=int(row["id"]), audience=row["audience"], title=row["title"], text=text,
                       created_at=row["created_at"])


def notices_envelope(key: DeviceKey, device_id: str, rows: list[dict]) -> Stored | None:
    """A device's notices downlink, derived from its site's newest notices alone (no row of its own).

    Notices are only ever added, so the newest id reaching a site only grows: it is the version. Issued at that
    notice's time and signed deterministically (Ed25519), the same notices give the same bytes, so a republish
    is a repeat to a kiosk that has them and a new notice is a newer version. None: no notice reaches the site.
    """
    if not rows:
        return None
    newest = max(rows, key=lambda r: int(r["id"]))
    items = [kiosk_notice(r).model_dump() for r in rows]
    issued = parse_utc_iso(newest["created_at"]).timestamp()
    while True:
        env = sign_envelope("notices", device_id, int(newest["id"]), {"notices": items}, key, issued_at=issued)
        data = encode_envelope(env)
        if len(data) <= MAX_BYTES["notices"]:
            return Stored(None, device_id, "notices", env.version, data)
        if len(items) == 1:  # cannot happen with the title and text caps; say so rather than send nothing
            raise DownlinkError(f"notice {items[0]['id']} alone is {len(data)} bytes signed, more than the "
                                f"{MAX_BYTES['notices']} a notices downlink may be")
        items = items[:-1]  # the oldest goes first: the screen shows the newest


def notice_devices(conn: sa.Connection, notice: dict) -> list[tuple[str, str]]:
    """(device_id, site_id) of every active device at the sites a notice reaches."""
    sites = sites_reached(conn, notice)
    q = sa.select(devices.c.device_id, devices.c.site_id).where(devices.c.status == "active")
    if sites is not None:
        if not sites:
            return []
        q = q.where(devices.c.site_id.in_(sites))
    return [(r.device_id, r.site_id) for r in conn.execute(q.order_by(devices.c.device_id))]


def make_notices(conn: sa.Connection, key: DeviceKey, targets: list[tuple[str, str]]) -> list[Stored]:
    """The current notices envelope of each (device, site) target (see notices_envelope)."""
    per_site: dict[str, list[dict]] = {}
    out = []
    for device_id, site_id in targets:
        if site_id not in per_site:
            per_site[site_id] = notices_for_site(conn, site_id, NOTICES_ON_KIOSK)
        stored = notices_envelope(key, device_id, per_site[site_id])
        if stored is not None:
            out.append(stored)
    return out


def _device_site(conn: sa.Connection, device_id: str) -> str | None:
    return conn.execute(sa.select(devices.c.site_id).where(devices.c.device_id == device_id)).scalar()


def latest_versions(conn: sa.Connection, device_id: str, key: DeviceKey | None = None) -> list[Stored]:
    """The newest stored version of each kind for a device (what its retained topics should hold); with the
    server's key, also its notices envelope (derived, so it needs the key to be signed again)."""
    newest = (sa.select(downlink_versions.c.kind, sa.func.max(downlink_versions.c.version).label("v"))
              .where(downlink_versions.c.device_id == device_id).group_by(downlink_versions.c.kind).subquery())
    rows = conn.execute(sa.select(downlink_versions).join(newest, sa.and_(
        downlink_versions.c.kind == newest.c.kind, downlink_versions.c.version == newest.c.v))
        .where(downlink_versions.c.device_id == device_id).order_by(downlink_versions.c.kind)).all()
    out = [Stored(r.id, r.device_id, r.kind, r.version, r.envelope.encode()) for r in rows]
    site_id = _device_site(conn, device_id) if key is not None else None
    if site_id is not None:
        out += make_notices(conn, key, [(device_id, site_id)])
    return out


def mark_published(conn: sa.Connection, ids: list[int | None]) -> None:
    ids = [i for i in ids if i is not None]  # derived (notices) versions have no row to mark
    if ids:
        conn.execute(sa.update(downlink_versions).where(downlink_versions.c.id.in_(ids))
                     .values(published_at=utc_iso(time.time())))


def device_downlink(conn: sa.Connection, device_id: str) -> dict:
    """Per kind: the newest version the server issued, and what the kiosk last applied and refused."""
    issued = {}
    for s in latest_versions(conn, device_id):
        row = conn.execute(sa.select(downlink_versions).where(downlink_versions.c.id == s.id)).one()
        issued[s.kind] = {"version": row.version, "issued_at": row.issued_at, "published_at": row.published_at,
                          "summary": row.summary, "key_id": row.key_id}
    reported = {}
    for r in conn.execute(sa.select(downlink_status).where(downlink_status.c.device_id == device_id)):
        d = dict(r._mapping)
        d.pop("device_id")
        reported[d.pop("kind")] = d
    site_id = _device_site(conn, device_id)
    rows = notices_for_site(conn, site_id, NOTICES_ON_KIOSK) if site_id is not None else []
    if rows:  # derived from the notices table, not stored: when it went out is not recorded
        newest = max(rows, key=lambda r: int(r["id"]))
        issued["notices"] = {"version": int(newest["id"]), "issued_at": newest["created_at"], "published_at": None,
                             "summary": f"{len(rows)} notice(s), newest {newest['title']!r}", "key_id": None}
    return {"device_id": device_id, "issued": issued, "reported": reported}
