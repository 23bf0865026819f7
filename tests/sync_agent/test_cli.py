"""`hajiri sync`: config file plus overrides, named config errors, and a clean stop on SIGTERM."""

import argparse
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sync_agent import cli

REPO = Path(__file__).resolve().parents[2]
# The sync subcommand alone, so this test does not depend on every other subcommand's module importing.
ENTRY = ("import argparse, logging, sys; from sync_agent import cli; logging.basicConfig(level='INFO');"
         "p = argparse.ArgumentParser(); cli.configure(p); sys.exit(cli.run(p.parse_args(sys.argv[1:])))")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return parser.parse_args(argv)


def test_overrides_win_over_the_file(tmp_path):
    path = tmp_path / "sync.toml"
    path.write_text('store = "/a.db"\nbatch_size = 7\n[mqtt]\nhost = "h"\npassword = "x"\n')
    config = cli.build_config(parse("--config", str(path), "--broker-host", "127.0.0.1", "--broker-port", "1999",
                                    "--password-file", "/run/pw", "--store", "/b.db", "--device-dir", "/dev-dir"))
    assert (config.mqtt.host, config.mqtt.port, str(config.mqtt.password_file)) == ("127.0.0.1", 1999, "/run/pw")
    assert config.mqtt.password is None  # --password-file replaces a password given in the file
    assert (str(config.store), str(config.device_dir), config.batch_size) == ("/b.db", "/dev-dir", 7)


def test_bad_config_exits_2_naming_the_key(tmp_path, capsys):
    path = tmp_path / "sync.toml"
    path.write_text("batch_size = 1000\n")
    assert cli.run(parse("--config", str(path))) == 2
    assert "batch_size" in capsys.readouterr().err


def test_missing_identity_exits_2(tmp_path, capsys):
    (tmp_path / "pw").write_text("x")
    args = parse("--device-dir", str(tmp_path / "nowhere"), "--password-file", str(tmp_path / "pw"))
    assert cli.run(args) == 2
    assert "no device identity" in capsys.readouterr().err


def test_unopenable_store_exits_1_and_restores_signal_handlers(tmp_path, device, capsys):
    (tmp_path / "pw").write_text("x")
    before = signal.getsignal(signal.SIGINT)
    args = parse("--device-dir", str(tmp_path / "device"), "--password-file", str(tmp_path / "pw"),
                 "--store", str(tmp_path / "no-such-dir" / "kiosk.db"))
    assert cli.run(args) == 1
    assert "cannot open the kiosk record store" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before


def test_missing_tls_ca_file_exits_1_naming_the_key(tmp_path, device, capsys):
    (tmp_path / "pw").write_text("x")
    config = tmp_path / "sync.toml"
    config.write_text(f'[mqtt.tls]\nca_file = "{tmp_path / "no-ca.pem"}"\n')
    args = parse("--config", str(config), "--device-dir", str(tmp_path / "device"), "--password-file",
                 str(tmp_path / "pw"), "--store", str(tmp_path / "kiosk.db"))
    assert cli.run(args) == 1
    assert "mqtt.tls" in capsys.readouterr().err


@pytest.mark.slow
def test_syncs_then_stops_cleanly_on_sigterm(tmp_path, broker, broker_accounts, device, start_peer,
                                             write_records, counts, peer_mod):
    write_records(9)
    start_peer(broker)
    (tmp_path / "pw").write_text(broker_accounts.devices[device.device_id] + "\n")
    config = tmp_path / "sync.toml"
    config.write_text(f'device_dir = "{tmp_path / "device"}"\nstore = "{tmp_path / "kiosk.db"}"\n'
                      f'poll_interval_s = 0.05\n[mqtt]\nhost = "198.51.100.1"\n')
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "--config", str(config), "--broker-host", broker.host,
         "--broker-port", str(broker.port), "--password-file", str(tmp_path / "pw")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        peer_mod.wait_until(lambda: counts()["acked"] == 9 or proc.poll() is not None, what="records acked")
        assert proc.poll() is None, proc.communicate()[1]
        assert counts()["acked"] == 9
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "got SIGTERM, stopping" in err and "sync agent stopped" in err
    assert "WARNING" not in err  # a requested stop is not reported as a lost connection
