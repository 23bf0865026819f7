"""How an uplink is handled: the context handlers share, their one result type, a route per kind, and the run."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.engine import Engine

from central_server.ingest.guard import Refused, Uplink, screen
from central_server.ingest.rejections import DEFAULT_REJECTIONS_KEEP, IngestStats, Rejection, write_rejections
from hajiri_wire import DeviceKey
from hajiri_wire.evidence import EvidenceKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What every handler may use. Keys are callables: loaded only by the kinds that need them."""

    engine: Engine
    stats: IngestStats | None = None
    rejections_keep: int = DEFAULT_REJECTIONS_KEEP
    evidence_key: Callable[[], EvidenceKey] | None = None
    signing_key: Callable[[], DeviceKey | None] | None = None


@dataclass(frozen=True)
class Publish:
    """One message to publish after the commit. `ack`: a record ack, counted as sent."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    ack: bool = False


@dataclass
class Handled:
    """What one message came to: what to publish, the days to recompute, and what to count."""

    report: object = None  # the kind's own outcome (IngestOutcome, HeartbeatOutcome, ...) for its entry point
    publish: list[Publish] = field(default_factory=list)
    touched: list[tuple[str, str]] = field(default_factory=list)  # (person_id, time) whose day to recompute
    rejections: list[Rejection] = field(default_factory=list)  # refused in this message, already written
    batches: int = 0
    stored: int = 0
    duplicate: int = 0


Handler = Callable[[Context, Uplink], Handled]
# What a refused message still gets (a signed refusal, an outcome for its caller); run() adds the rejection.
RefusedHandler = Callable[[Context, str, Refused], Handled]


def _nothing(_ctx: Context, _topic: str, _refused: Refused) -> Handled:
    return Handled()


@dataclass(frozen=True)
class Route:
    """One uplink kind: its handler and its policies. `keep_refusals` False: refusals are only logged.
    `on_error`: a failure (DB, bug) is "stored" (counted, and a rejection row tried), "counted", or "raise"d."""

    kind: str
    handle: Handler
    refused: RefusedHandler = _nothing
    keep_refusals: bool = True
    on_error: Literal["store", "count", "raise"] = "count"


def run(ctx: Context, topic: str, payload: bytes, route_of: Callable[[str | None], Route], *,
        expect: str | None = None, received_unix_ms: int | None = None) -> Handled:
    """Guard one message, hand it to its kind's route, write and count what was refused.

    Never raises, except where the route's `on_error` is "raise".
    """
    route, uplink = route_of(expect), None
    try:
        try:
            uplink = screen(topic, payload, expect=expect, received_unix_ms=received_unix_ms)
            route = route_of(uplink.kind)
            handled = route.handle(ctx, uplink)
        except Refused as r:
            route = route_of(r.kind)
            handled = _refuse(ctx, route, topic, payload, r)
    except Exception as e:  # a DB failure or a bug must cost one message, never the worker
        if route.on_error == "raise":
            raise
        handled = _failed(ctx, route, topic, payload, e, uplink)
    if ctx.stats is not None:
        ctx.stats.count(batches=handled.batches, stored=handled.stored, duplicate=handled.duplicate,
                        rejected=[r.reason for r in handled.rejections])
    return handled


def run_one(ctx: Context, route: Route, topic: str, payload: bytes, *,
            received_unix_ms: int | None = None) -> Handled:
    """`run` for a caller of one kind only (its entry point): any other topic is a bad_topic of that kind."""
    return run(ctx, topic, payload, lambda _kind: route, expect=route.kind, received_unix_ms=received_unix_ms)


def _refuse(ctx: Context, route: Route, topic: str, payload: bytes, refused: Refused) -> Handled:
    rejection = refused.rejection
    if route.keep_refusals:
        with ctx.engine.begin() as conn:
            write_rejections(conn, topic, payload, [rejection], keep=ctx.rejections_keep)
    else:
        log.warning("ignored a %s on %s (%s): %s", route.kind, topic, rejection.reason, rejection.detail)
    handled = route.refused(ctx, topic, refused)
    handled.rejections = [rejection] if route.keep_refusals else []
    return handled


def _failed(ctx: Context, route: Route, topic: str, payload: bytes, error: Exception,
            uplink: Uplink | None) -> Handled:
    log.exception("%s on %s not handled; not acked, the kiosk will resend", route.kind, topic)
    rejection = Rejection("server_error", f"{type(error).__name__}: {error}")
    if route.on_error == "store":
        try:
            with ctx.engine.begin() as conn:
                write_rejections(conn, topic, payload, [rejection], keep=ctx.rejections_keep)
        except Exception:
            log.exception("could not write the rejection row either (reason server_error)")
    handled = route.refused(ctx, topic, Refused(rejection, kind=route.kind, uplink=uplink))
    handled.rejections = [rejection]
    return handled
