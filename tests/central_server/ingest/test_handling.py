"""run(): the guard, then the route; refusals written and counted (or only logged), failures by the route's
policy (stored, counted or raised), and what a refused message still gets."""

import pytest
import sqlalchemy as sa

from central_server.db.schema import rejections
from central_server.ingest.guard import Refused
from central_server.ingest.handling import Context, Handled, Publish, Route, run, run_one
from central_server.ingest.rejections import IngestStats, Rejection
from hajiri_wire import topics
from tests.central_server.ingest.uplinks import payload_of

TOPIC = topics.heartbeat("kiosk-01")


def rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(rejections.c.reason, rejections.c.device_id))]


def route(handle, **kw) -> Route:
    return Route("heartbeat", handle, lambda _ctx, _topic, r: Handled(report=("refused", r.uplink)), **kw)


def test_a_handled_message_is_counted_as_its_handler_says(sqlite_engine, new_kiosk):
    seen = []

    def handle(ctx, uplink):
        seen.append(uplink)
        return Handled(publish=[Publish("t", b"p", ack=True)], batches=1, stored=2, duplicate=1,
                       rejections=[Rejection("bad_signature", "x")])

    stats = IngestStats()
    handled = run_one(Context(sqlite_engine, stats), route(handle), TOPIC, payload_of("heartbeat", new_kiosk()))
    assert [u.kind for u in seen] == ["heartbeat"] and handled.publish == [Publish("t", b"p", ack=True)]
    assert stats.snapshot() == {"batches": 1, "stored": 2, "duplicate": 1, "acks_sent": 0,
                                "rejected": {"bad_signature": 1}}
    assert rows(sqlite_engine) == []  # a handler writes its own record-level rejections


def test_a_refusal_is_written_counted_and_its_route_answers(sqlite_engine, new_kiosk):
    def handle(ctx, uplink):
        raise Refused(Rejection("replayed", "again", uplink.device_id), uplink=uplink)

    stats = IngestStats()
    handled = run_one(Context(sqlite_engine, stats), route(handle), TOPIC, payload_of("heartbeat", new_kiosk()))
    assert handled.report[0] == "refused" and handled.report[1].device_id == "kiosk-01"
    assert [r.reason for r in handled.rejections] == ["replayed"]
    assert rows(sqlite_engine) == [("replayed", "kiosk-01")] and stats.snapshot()["rejected"] == {"replayed": 1}


def test_refusals_of_a_route_that_keeps_none_are_only_logged(sqlite_engine, caplog):
    stats = IngestStats()
    with caplog.at_level("WARNING", logger="central_server.ingest"):
        handled = run_one(Context(sqlite_engine, stats), route(None, keep_refusals=False), TOPIC, b"{bad")
    assert handled.report == ("refused", None) and handled.rejections == []
    assert rows(sqlite_engine) == [] and stats.snapshot()["rejected"] == {}
    assert any("ignored a heartbeat" in m and "malformed" in m for m in caplog.messages)


def broken(ctx, uplink):
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize("policy,stored", [("store", [("server_error", None)]), ("count", [])])
def test_a_failure_costs_one_message_by_the_routes_policy(sqlite_engine, new_kiosk, policy, stored):
    stats = IngestStats()
    handled = run_one(Context(sqlite_engine, stats), route(broken, on_error=policy), TOPIC,
                      payload_of("heartbeat", new_kiosk()))
    assert [r.reason for r in handled.rejections] == ["server_error"] and "disk on fire" in handled.rejections[0].detail
    assert handled.report[1].device_id == "kiosk-01"  # the refusal hook still learns whose message it was
    assert rows(sqlite_engine) == stored and stats.snapshot()["rejected"] == {"server_error": 1}


def test_a_route_that_raises_its_failures_raises_them(sqlite_engine, new_kiosk):
    stats = IngestStats()
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_one(Context(sqlite_engine, stats), route(broken, on_error="raise"), TOPIC,
                payload_of("heartbeat", new_kiosk()))
    assert stats.snapshot()["rejected"] == {}


def test_the_route_is_chosen_by_the_kind_the_guard_found(sqlite_engine, new_kiosk):
    chosen = []

    def route_of(kind):
        chosen.append(kind)
        return Route(kind or "records", lambda ctx, uplink: Handled(report=uplink.kind))

    handled = run(Context(sqlite_engine), topics.evidence("kiosk-01"), payload_of("evidence", new_kiosk()), route_of)
    assert handled.report == "evidence" and chosen == [None, "evidence"]
