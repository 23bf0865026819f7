"""The register's site details (SQLite and PostgreSQL): the go-live day is validated, kept when a change leaves
it out, and never moved across a closed month."""

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from central_server.db.schema import month_closes, site_details
from central_server.org.employees import GoLiveConflict, go_live_span, set_site_details, site_go_live
from central_server.org.schemas import SiteDetails
from central_server.org.sites import create_site


def test_the_days_a_go_live_change_moves_over():
    assert go_live_span(None, None) is None and go_live_span("2026-10-01", "2026-10-01") is None
    assert go_live_span(None, "2026-10-05") == ("0001-01-01", "2026-10-04")
    assert go_live_span("2026-10-05", None) == ("0001-01-01", "2026-10-04")
    assert go_live_span("2026-10-05", "2026-09-28") == ("2026-09-28", "2026-10-04")
    assert go_live_span("2026-09-28", "2026-10-05") == ("2026-09-28", "2026-10-04")


@pytest.mark.parametrize("day, why", [("2026-02-30", "not a calendar date"), ("2026-1-05", "String should match"),
                                      ("2019-12-31", "before 2020")])
def test_a_go_live_day_is_a_calendar_day(day, why):
    with pytest.raises(ValidationError, match=why):
        SiteDetails(go_live_on=day)
    assert SiteDetails(go_live_on="2026-10-05").go_live_on == "2026-10-05"


def test_left_out_it_stays_and_none_clears_it(engine):
    with engine.begin() as conn:
        create_site(conn, "office-1", "Office", "office", actor="test")
        set_site_details(conn, "office-1", {"district": "North", "go_live_on": "2026-10-05"}, actor="test")
        set_site_details(conn, "office-1", {"district": "South"}, actor="test")
        assert site_go_live(conn, "office-1") == "2026-10-05"
        assert conn.execute(sa.select(site_details.c.district)).scalar_one() == "South"
        set_site_details(conn, "office-1", {"district": "South", "go_live_on": None}, actor="test")
        assert site_go_live(conn, "office-1") is None


def test_the_go_live_day_does_not_move_across_a_closed_month(engine):
    with engine.begin() as conn:
        create_site(conn, "office-1", "Office", "office", actor="test")
        set_site_details(conn, "office-1", {"go_live_on": "2026-09-01"}, actor="test")
        conn.execute(sa.insert(month_closes).values(site_id="office-1", month="2026-10", closed_at="x",
                                                    closed_by="head", reason="paid"))
    for day in ("2026-10-15", "2026-11-02"):
        with engine.begin() as conn, pytest.raises(GoLiveConflict, match="closed month") as refused:
            set_site_details(conn, "office-1", {"go_live_on": day}, actor="test")
        assert refused.value.status_code == 409
    with engine.begin() as conn:
        # Moves that leave October as it was paid: earlier, later within September, or live since always.
        for day in ("2026-08-20", "2026-09-30", None):
            set_site_details(conn, "office-1", {"go_live_on": day}, actor="test")
        assert site_go_live(conn, "office-1") is None
        # Now live since always: going live on 1 October leaves October whole; a day later would not.
        with pytest.raises(GoLiveConflict, match="2026-10"):
            set_site_details(conn, "office-1", {"go_live_on": "2026-10-02"}, actor="test")
        set_site_details(conn, "office-1", {"go_live_on": "2026-10-01"}, actor="test")
