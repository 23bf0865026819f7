"""The day settler: a thread of the server that, every few minutes, stores the final day of every employee
whose shift has ended (attendance.rules.recompute.settle_days), so past days are read as stored and absences
ask their explanation without anyone opening a report."""

import logging
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from central_server.attendance.rules.recompute import settle_days

log = logging.getLogger(__name__)


def settle_recent(engine: Engine, tz: str, look_back_days: int, now: datetime | None = None) -> int:
    """settle_days for today and the `look_back_days` local days before it, in one transaction."""
    now = now or datetime.now(UTC)
    today = now.astimezone(ZoneInfo(tz)).date()
    with engine.begin() as conn:
        return settle_days(conn, [today - timedelta(days=i) for i in range(look_back_days + 1)], tz, now)


class DaySettler:
    """Runs settle_recent every `every_s` seconds until stopped; a failed run is logged and retried next time."""

    def __init__(self, engine: Engine, tz: str, every_s: float, look_back_days: int) -> None:
        self._engine, self._tz, self._every_s, self._look_back = engine, tz, every_s, look_back_days
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="day-settler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                stored = settle_recent(self._engine, self._tz, self._look_back)
                if stored:
                    log.info("settled %d employee-days whose shift has ended", stored)
            except Exception:  # the next run tries again; a server must not lose its settler to one bad day
                log.exception("settling the days failed; retrying in %.0f s", self._every_s)
