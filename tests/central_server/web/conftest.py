"""Web fixtures: the seeded world on SQLite, a TestClient per test, and for browser tests the real app served
by uvicorn on a loopback port with Debian's Chromium driven by Playwright (skipped, with why, without it)."""

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from central_server.app import create_app
from central_server.config import ServerConfig
from tests.central_server.web.world import PASSWORD, seed_world

CHROMIUM = Path("/usr/bin/chromium")
# Chromium as root in a sandbox-less container, with nothing reaching out to Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Screenshots of every page the browser tests open (not committed; the README shows a few).
SCREENSHOTS = Path(os.environ.get("HAJIRI_TEST_OUTPUT", "test-output")) / "screenshots"


@pytest.fixture
def world(sqlite_engine: sa.Engine) -> sa.Engine:
    with sqlite_engine.begin() as conn:
        seed_world(conn)
    return sqlite_engine


@pytest.fixture
def web_config(sqlite_url: str) -> ServerConfig:
    return ServerConfig(database_url=sqlite_url, timezone="Asia/Kolkata")


@pytest.fixture
def client(world: sa.Engine, web_config: ServerConfig) -> Iterator[TestClient]:
    app = create_app(web_config, engine=world, start_ingest=False)
    with TestClient(app) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(world: sa.Engine, web_config: ServerConfig) -> Iterator[str]:
    """The app on http://127.0.0.1:PORT in a thread (one process: the test can write to the same database)."""
    app = create_app(web_config, engine=world, start_ingest=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start on loopback")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright; skipped with the reason when either is missing."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: ./run test installs Debian's chromium package (needs root and apt)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra (./run)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_as(browser, live_server: str) -> Iterator[Callable]:
    """page_as(username, viewport=(w, h)) -> a Playwright page signed in through /login by pressing Enter."""
    contexts = []

    def open_as(username: str, viewport: tuple[int, int] = (1366, 768), password: str = PASSWORD):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, base_url=live_server)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        with page.expect_navigation():
            page.press("#password", "Enter")
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save what the page shows now under test-output/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
