"""The routing table: uplink kind -> its route (handler and policies), and the dispatch of one message by it."""

from central_server.devices import heartbeat, key_rotation
from central_server.downlink import status
from central_server.evidence import ingest as evidence
from central_server.ingest import records
from central_server.ingest.handling import Context, Handled, Route, run
from hajiri_wire import topics

ROUTES: dict[str, Route] = {route.kind: route for route in (
    records.ROUTE, heartbeat.ROUTE, evidence.ROUTE, status.ROUTE, key_rotation.ROUTE)}
assert set(ROUTES) == set(topics.UPLINK_KINDS), "every uplink kind needs a route"


def route_of(kind: str | None) -> Route:
    """The route of `kind`; a message whose topic names no uplink kind is refused as a records batch would be."""
    return ROUTES.get(kind or "records", ROUTES["records"])


def dispatch(ctx: Context, topic: str, payload: bytes) -> Handled:
    """Guard one message from the broker and hand it to its kind's handler. Raises only where a route says so."""
    return run(ctx, topic, payload, route_of)
