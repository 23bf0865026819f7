"""Rejection rows: written with their reason, bounded to the newest `keep`, and totalled for the stats route."""

import sqlalchemy as sa

from central_server.db.schema import rejections
from central_server.ingest.rejections import Rejection, rejection_totals, write_rejections


def test_rows_are_bounded_and_totalled(engine) -> None:
    with engine.begin() as conn:
        for i in range(5):
            write_rejections(conn, "hajiri/v1/dev/kiosk-01/up/records", b"x" * i,
                             [Rejection("bad_signature" if i % 2 else "malformed", f"try {i}", "kiosk-01")], keep=3)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rejections)).scalar_one() == 3
        totals = rejection_totals(conn, latest=2)
    assert totals["stored_total"] == 0
    assert totals["rejected_total_by_reason"] == {"malformed": 2, "bad_signature": 1}
    assert [r["detail"] for r in totals["latest_rejections"]] == ["try 4", "try 3"]
