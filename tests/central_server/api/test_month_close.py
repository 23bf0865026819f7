"""Month close over the API (SQLite and PostgreSQL): a closed month's downloads are the frozen bytes, whatever
comes later, and their signature files verify (the CLI says so, and fails a tampered file); who may close and
see what; adjustments and their review."""

import argparse
import io
import json

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from central_server import cli
from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.closing.files import ADJUSTMENTS_TITLE
from central_server.config import ServerConfig
from central_server.org.employees import set_site_details
from central_server.org.sites import create_site
from tests.central_server.closing.months import LATE_DAY, NOV, NOW, OCT, TZ, late_record, seed_october

REASON = "October reviewed; absences covered by the leave register"


@pytest.fixture
def tokens(engine, registered) -> dict[str, str]:
    seed_october(engine, registered)
    with engine.begin() as conn:
        create_site(conn, "office-2", "Office Two", "office", actor="test")
        set_site_details(conn, "office-1", {"district": "North"}, actor="test")
        set_site_details(conn, "office-2", {"district": "South"}, actor="test")
        return {
            "admin": create_token(conn, Role.STATE_ADMIN, "admin"),
            "head": create_token(conn, Role.OFFICE_HEAD, "head of office-1", "office-1"),
            "head-2": create_token(conn, Role.OFFICE_HEAD, "head of office-2", "office-2"),
            "warden": create_token(conn, Role.WARDEN, "warden", "office-1"),
            "it": create_token(conn, Role.IT_STAFF, "it desk"),
            "employee": create_token(conn, Role.EMPLOYEE, "emp-1", employee_id="emp-1"),
            "do-north": create_token(conn, Role.DISTRICT_OFFICER, "do north", district="North"),
            "do-south": create_token(conn, Role.DISTRICT_OFFICER, "do south", district="South"),
        }


@pytest.fixture
def client(engine, tokens, tmp_path):
    config = ServerConfig(database_url="sqlite:///unused.db", timezone=TZ,
                          downlink_key_file=tmp_path / "server-key.pem")
    app = create_app(config, engine=engine, start_ingest=False)
    app.state.clock = NOW.timestamp  # closing happens on 5 November: October is over, November is not
    with TestClient(app) as c:
        c.tokens = tokens
        yield c


def call(client, who: str, method: str, path: str, **kw):
    return client.request(method, f"/api/v1/{path}", headers={"Authorization": f"Bearer {client.tokens[who]}"}, **kw)


def close(client, who="head", **body):
    return call(client, who, "POST", "month-close", json={"site_id": "office-1", "month": OCT, "reason": REASON,
                                                          "force": True, **body})


def download(client, fmt: str, who="head", path="reports/monthly", **params):
    return call(client, who, "GET", path, params={"month": OCT, "site_id": "office-1", "format": fmt, **params})


def verify_cli(tmp_path, content: bytes, sig: bytes, *extra: str) -> int:
    (tmp_path / "report").write_bytes(content)
    (tmp_path / "report.sig").write_bytes(sig)
    parser = argparse.ArgumentParser(prog="hajiri server")
    cli.configure(parser)
    return cli.run(parser.parse_args(["verify-report", str(tmp_path / "report"), str(tmp_path / "report.sig"),
                                      *extra]))


def test_a_closed_month_downloads_frozen_and_signed(client, engine, registered, tmp_path, capsys):
    r = close(client)
    assert r.status_code == 201, r.text
    status = r.json()
    assert status["closed"] and status["closed_by"] == "head of office-1"
    sha = {f["format"]: f["sha256"] for f in status["files"]}
    frozen = {}
    for fmt in ("csv", "xlsx", "pdf"):
        got = download(client, fmt)
        assert got.status_code == 200 and got.headers["X-Hajiri-Closed"] == status["closed_at"]
        assert f'filename="monthly-office-1-{OCT}.{fmt}"' in got.headers["content-disposition"]
        frozen[fmt] = got.content
    live_before = download(client, "json").json()

    # emp-2's kiosk syncs 7 October in November: the days change, the downloads do not.
    late_record(engine, registered)
    server_key = call(client, "admin", "GET", "downlink/server-key").json()["public_key"]
    for fmt, before in frozen.items():
        again = download(client, fmt)
        assert again.content == before  # byte for byte
        assert download(client, fmt, who="admin").content == before
        assert call(client, "head", "GET", "reports/monthly",
                    params={"month": OCT, "format": fmt}).content == before  # the head's own site, unnamed
        sig = download(client, fmt, path="reports/monthly.sig")
        assert sig.status_code == 200 and sig.headers["X-Hajiri-Closed"] == status["closed_at"]
        parsed = sig.json()
        assert parsed["file_sha256"] == sha[fmt] and parsed["public_key"] == server_key
        assert verify_cli(tmp_path, again.content, sig.content, "--public-key", server_key) == 0
        assert capsys.readouterr().out.startswith(f"ok: report is the {fmt} report of site office-1 for {OCT}")
        tampered = bytearray(again.content)
        tampered[-10] ^= 0x20
        assert verify_cli(tmp_path, bytes(tampered), sig.content) == 1
        assert "failed: the file's sha256 is not the signed one" in capsys.readouterr().out
    # JSON is not a frozen format: it shows the days as they are now.
    live_after = {r["employee_id"]: r for r in download(client, "json").json()}
    before_by = {r["employee_id"]: r for r in live_before}
    assert live_after["emp-2"]["payable_days"] == before_by["emp-2"]["payable_days"] + 1
    # A district's report is not one office's frozen file: it is built from the days.
    district = call(client, "admin", "GET", "reports/monthly", params={"month": OCT, "district": "North"})
    assert "X-Hajiri-Closed" not in district.headers


def test_the_next_open_month_shows_the_adjustment(client, engine, registered):
    assert close(client).status_code == 201
    late_record(engine, registered)
    r = call(client, "head", "GET", "adjustments", params={"month": OCT})
    (adj,) = r.json()
    assert (adj["day"], adj["old_status"], adj["new_status"], adj["payable_delta"], adj["applied_month"]) == \
        (LATE_DAY, "absent", "present", 1.0, NOV)
    book = load_workbook(io.BytesIO(download(client, "xlsx", month=NOV).content), read_only=True)
    rows = list(book[ADJUSTMENTS_TITLE].iter_rows(values_only=True))
    assert rows[1][:8] == ("office-1", "emp-2", "Bhim", LATE_DAY, OCT, "absent", "present", 1)
    assert download(client, "pdf", month=NOV).content.startswith(b"%PDF")
    assert "X-Hajiri-Closed" not in download(client, "csv", month=NOV).headers


@pytest.mark.parametrize("who", ["employee", "warden", "it", "do-north"])
def test_only_an_office_head_or_the_state_admin_closes(client, who):
    r = close(client, who)
    assert r.status_code == 403 and "may not do this" in r.text


def test_an_office_head_closes_only_their_own_office(client):
    r = close(client, "head-2")
    assert r.status_code == 403 and "limited to site office-2" in r.text
    assert close(client, "admin").status_code == 201


def test_refusals_carry_their_status(client):
    assert close(client, month=NOV).status_code == 409  # the current month (the clock says 5 November)
    assert close(client, month="2027-01").status_code == 409
    r = close(client, reason="ok")
    assert r.status_code == 422 and "reason" in r.text
    assert close(client, reason="x" * 2001).status_code == 422
    assert close(client, month="2026-13").status_code == 422
    r = close(client, force=False)
    assert r.status_code == 409 and "open exception" in r.text  # October's absences are not decided
    assert close(client).status_code == 201
    r = close(client)
    assert r.status_code == 409 and "was closed by head of office-1" in r.text


def test_status_scope_and_review(client, engine, registered):
    r = call(client, "head", "GET", "month-close", params={"month": OCT})
    assert r.status_code == 200 and not r.json()["closed"] and r.json()["exceptions"]["open"] > 0
    assert close(client).status_code == 201
    seen = call(client, "do-north", "GET", "month-close", params={"month": OCT, "site_id": "office-1"}).json()
    assert seen["closed"] and seen["reason"].endswith(REASON) and len(seen["files"]) == 3
    assert call(client, "do-south", "GET", "month-close", params={"month": OCT, "site_id": "office-1"}
                ).status_code == 403
    assert call(client, "head-2", "GET", "month-close", params={"month": OCT, "site_id": "office-1"}
                ).status_code == 403
    assert call(client, "admin", "GET", "month-close", params={"month": OCT}).status_code == 422  # which site?
    assert call(client, "admin", "GET", "month-close", params={"month": OCT, "site_id": "nowhere"}
                ).status_code == 404
    late_record(engine, registered)
    (adj,) = call(client, "do-north", "GET", "adjustments", params={"site_id": "office-1"}).json()
    assert call(client, "head-2", "GET", "adjustments", params={"site_id": "office-1"}).status_code == 403
    review = f"adjustments/{adj['id']}/review"
    assert call(client, "head-2", "POST", review, json={"note": "not mine"}).status_code == 403
    assert call(client, "do-north", "POST", review, json={}).status_code == 403
    done = call(client, "head", "POST", review, json={"note": "kiosk log checked"})
    assert done.status_code == 200 and done.json()["reviewed_by"] == "head of office-1"
    assert call(client, "head", "POST", review, json={"note": "again"}).status_code == 409
    assert call(client, "admin", "POST", "adjustments/999999/review", json={}).status_code == 404


def test_signature_files_only_for_one_office_s_closed_month(client):
    r = download(client, "csv", path="reports/monthly.sig")
    assert r.status_code == 404 and "not closed" in r.text
    assert close(client).status_code == 201
    assert download(client, "json", path="reports/monthly.sig").status_code == 422
    assert call(client, "employee", "GET", "reports/monthly.sig", params={"month": OCT}).status_code == 403
    assert call(client, "admin", "GET", "reports/monthly.sig", params={"month": OCT}).status_code == 422
    assert download(client, "pdf", who="do-north", path="reports/monthly.sig").status_code == 200
    # An employee downloading their own month gets their own row, built from the days, not the office's file.
    mine = call(client, "employee", "GET", "reports/monthly", params={"month": OCT})
    assert "X-Hajiri-Closed" not in mine.headers and mine.text.count("\n") == 2
    assert json.loads(download(client, "csv", path="reports/monthly.sig").content)["format"] == "csv"
