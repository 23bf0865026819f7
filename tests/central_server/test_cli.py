"""`hajiri server` actions on the database (migrate, create-token, register-device) and verify-report."""

import argparse

import pytest
import sqlalchemy as sa

from central_server import cli
from central_server.access.tokens import Role, find_principal
from central_server.closing.signing import sign_report_file, signature_file_bytes
from central_server.db.engine import make_engine
from central_server.db.schema import devices
from hajiri_wire import DeviceKey


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hajiri server")
    cli.configure(parser)
    return cli.run(parser.parse_args(argv))


def test_migrate_create_token_register_device(sqlite_url, capsys, new_kiosk):
    assert run(["--database-url", sqlite_url, "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert run(["create-token", "--database-url", sqlite_url, "--role", "state_admin", "--label", "ops"]) == 0
    token = capsys.readouterr().out.strip()
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        principal = find_principal(conn, token)
        assert principal.role is Role.STATE_ADMIN and principal.label == "ops"
        assert conn.exec_driver_sql("SELECT count(*) FROM api_tokens WHERE token_sha256 = ?", (token,)).scalar() == 0
    kiosk = new_kiosk("kiosk-02", "office-7")
    argv = ["--database-url", sqlite_url, "register-device", "--device-id", "kiosk-02", "--site-id", "office-7",
            "--public-key", kiosk.key.public_b64]
    assert run(argv) == 0
    assert run(argv) == 2
    assert "already registered" in capsys.readouterr().err
    with engine.connect() as conn:
        assert conn.execute(sa.select(devices.c.site_id, devices.c.status)).one() == ("office-7", "active")


def test_errors_are_clear(sqlite_url, capsys):
    assert run(["--database-url", sqlite_url, "register-device", "--device-id", "kiosk-03", "--site-id", "s1",
                "--public-key", "AAAA"]) == 2
    assert "Ed25519" in capsys.readouterr().err
    assert run(["--database-url", sqlite_url, "create-token", "--role", "office_head"]) == 2
    assert "site" in capsys.readouterr().err
    assert run(["--database-url", "mysql://nope", "migrate"]) == 2
    assert "database_url" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["create-token", "--role", "emperor"])


def test_verify_report_says_ok_or_failed(tmp_path, capsys):
    key = DeviceKey.generate()
    report = tmp_path / "monthly-office-1-2026-10.csv"
    report.write_bytes(b"district,site_id\r\nNorth,office-1\r\n")
    sig = sign_report_file(key, report.read_bytes(), site_id="office-1", month="2026-10", fmt="csv",
                           closed_at="2026-11-05T06:00:00.000Z", closed_by="head of office-1")
    sigfile = tmp_path / "monthly-office-1-2026-10.csv.sig"
    sigfile.write_bytes(signature_file_bytes(sig))
    assert run(["verify-report", str(report), str(sigfile)]) == 0
    assert capsys.readouterr().out.startswith("ok: monthly-office-1-2026-10.csv is the csv report of site office-1")
    assert run(["verify-report", str(report), str(sigfile), "--public-key", DeviceKey.generate().public_b64]) == 1
    assert "not by the trusted key" in capsys.readouterr().out
    report.write_bytes(b"district,site_id\r\nNorth,office-2\r\n")
    assert run(["verify-report", str(report), str(sigfile)]) == 1
    assert capsys.readouterr().out.startswith("failed: the file's sha256 is not the signed one")
    sigfile.write_text("{not json")
    assert run(["verify-report", str(report), str(sigfile)]) == 1
    assert run(["verify-report", str(tmp_path / "missing.csv"), str(sigfile)]) == 1
    assert capsys.readouterr().out.count("failed: cannot read the files") == 2
