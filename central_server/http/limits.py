"""HTTP trust rules: a request body limit enforced before the app reads it, and the client address behind proxies."""

import ipaddress
import json
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BodyLimit:
    """Refuse a body over max_bytes with 413: at once from Content-Length, else while counting chunks."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body over {self.max_bytes} bytes"}).encode()
        # connection: close, so the server drops the rest of the upload instead of draining it.
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None  # the server's parser refuses these; counting below still holds
                if declared is not None and declared > self.max_bytes:
                    # Before the app runs: no route, dependency or auth check sees the request.
                    await self._refuse(send)
                    return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now and tell the app the client left: an exception here would be turned into a
                    # 400 by FastAPI's body parsing, and the rest of the upload is never read.
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; whatever the app makes of the "disconnect" is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if not refused:
                raise


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """IP addresses or CIDR blocks; a bare address is a /32 (or /128). ValueError names the bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as e:
            raise ValueError(f"{value!r} is not an IP address or CIDR block ({e})") from e
    return tuple(networks)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(request: Request, trusted: tuple[Network, ...]) -> str:
    """The peer's address; X-Forwarded-For only when the peer is a trusted proxy (then its right-most untrusted hop).

    Anyone can send X-Forwarded-For, so an untrusted peer's header is ignored: else each request could claim a
    new address and walk past the per-address login throttle.
    """
    peer = request.client.host if request.client is not None else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for line in request.headers.getlist("x-forwarded-for") for h in line.split(",") if h.strip()]
    # Right to left: each trusted proxy appended the address it saw; the first untrusted one is the client.
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer
