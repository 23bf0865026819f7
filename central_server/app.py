"""The FastAPI app factory: migrations and the ingest worker run in the lifespan; routers per resource."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from central_server.access.tokens import ensure_bootstrap_token
from central_server.api import (
    absences,
    attendance,
    auth_login,
    checkin_review,
    checkins,
    days,
    devices,
    downlink,
    employees,
    evidence,
    explanations,
    geofences,
    imports,
    ingest_stats,
    inspections,
    month_close,
    people,
    reports,
    rollcall,
    sites,
    tasks,
    templates,
)
from central_server.attendance.day_settler import DaySettler
from central_server.config import ServerConfig
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.errors import install_error_handler
from central_server.http.limits import BodyLimit
from central_server.ingest.rejections import IngestStats
from central_server.ingest.worker import IngestWorker
from central_server.web import assets, dashboard, evidence_review
from central_server.web import login as web_login
from central_server.web.error_pages import page_error_response, page_http_error_response
from central_server.web.pages import page_modules

log = logging.getLogger(__name__)


def create_app(config: ServerConfig, *, engine: Engine | None = None, start_ingest: bool = True) -> FastAPI:
    """The server app. Tests pass their own engine; start_ingest=False keeps MQTT out of API-only tests."""
    own_engine = engine is None
    engine = make_engine(config.database_url) if engine is None else engine

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(engine)
        if config.bootstrap_admin_token and ensure_bootstrap_token(engine, config.bootstrap_admin_token):
            log.info("bootstrap admin token from the config is now valid")
        worker = None
        if start_ingest and config.ingest.enabled:
            worker = IngestWorker(config, engine, stats=app.state.ingest_stats)
            worker.start()
        app.state.ingest_worker = worker
        settler = None
        if start_ingest and config.days.settle:  # background work runs with the ingest worker, not in API tests
            settler = DaySettler(engine, config.timezone, config.days.settle_every_s, config.days.look_back_days)
            settler.start()
        try:
            yield
        finally:
            if settler is not None:
                settler.stop()
            if worker is not None:
                worker.stop()
            if own_engine:
                engine.dispose()

    docs = config.http.api_docs
    app = FastAPI(title="Hajiri central server", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs" if docs else None, redoc_url=None, openapi_url="/openapi.json" if docs else None)
    install_error_handler(app, page_error_response)  # their own status: JSON on API paths, a page on pages
    app.add_exception_handler(StarletteHTTPException, page_http_error_response)  # no such page: a 404 page
    # Outside routing and auth: an oversized body is refused before anything reads or authenticates it.
    app.add_middleware(BodyLimit, max_bytes=config.http.max_body_bytes)
    app.state.config = config
    app.state.trusted_proxies = config.http.trusted_networks  # parsed once; client_address() reads it
    app.state.engine = engine
    app.state.ingest_stats = IngestStats()
    app.state.ingest_worker = None
    for module in (sites, people, devices, attendance, ingest_stats, dashboard, employees, geofences, absences,
                   checkins, days, explanations, imports, rollcall, templates):
        app.include_router(module.router)
    for module in (auth_login, inspections, tasks):  # access: login, users, field inspections, tasks
        app.include_router(module.router)
    app.include_router(checkin_review.router)  # a reviewer's decision on a flagged mobile check-in
    app.include_router(evidence.router)  # spoof evidence review, liveness policy
    app.include_router(evidence_review.router)
    app.include_router(downlink.router)  # signed gallery, config and command downlinks
    app.include_router(reports.router)  # muster roll, monthly/salary report, roll-up, late and absent lists
    app.include_router(month_close.router)  # closing a month: frozen signed reports, adjustments after it
    # The office web app: sign-in, each role's pages (server-rendered), its fonts and static files.
    for module in (web_login, assets, *page_modules()):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=assets.STATIC_DIR), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        """Liveness only: no data, so no role needed."""
        return {"status": "ok"}

    return app
