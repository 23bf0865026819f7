"""Mosquitto for one site or one test: generated config, per-device passwords, topic ACL, start/stop/kill."""

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hajiri_wire import topics


class BrokerError(RuntimeError):
    """Mosquitto missing, misconfigured, or not accepting connections."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_binary() -> str:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")


def acl_text() -> str:
    """The server account reads every device's uplink and writes every downlink; a device only its own."""
    lines = [
        f"user {topics.SERVER_USER}",
        f"topic read {topics.PREFIX}/dev/+/up/#",
        f"topic write {topics.PREFIX}/dev/+/down/#",
        "",
        *topics.broker_acl_patterns(),
        "",
    ]
    return "\n".join(lines)


def write_password_file(path: Path, users: dict[str, str]) -> None:
    """Hash the passwords with mosquitto_passwd so no clear password stays on disk."""
    path.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
    os.chmod(path, 0o600)
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    result = subprocess.run([passwd, "-U", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise BrokerError(f"mosquitto_passwd failed: {result.stderr.strip()}")


@dataclass(frozen=True)
class BrokerTls:
    """TLS on the broker's listener. With client_certs, every client must show a certificate from `ca_file`
    and its common name is its broker user (no password): the ACL patterns then bind a device to its own id."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    client_certs: bool = True


@dataclass
class LocalBroker:
    """A mosquitto process on a loopback port with its own config, data and log in `directory`."""

    directory: Path
    users: dict[str, str]
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    proc: subprocess.Popen | None = None
    tls: BrokerTls | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / "mosquitto.log"

    def write_config(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "data").mkdir(exist_ok=True)
        if self.users:  # with client certificates only, there is no password file at all
            write_password_file(self.directory / "passwd", self.users)
        (self.directory / "acl").write_text(acl_text())
        conf = self.directory / "mosquitto.conf"
        conf.write_text("\n".join([
            f"listener {self.port} {self.host}",
            "allow_anonymous false",
            *self._auth_lines(),
            f"acl_file {self.directory / 'acl'}",
            # The broker keeps queued QoS 1 messages for offline persistent sessions across restarts.
            "persistence true",
            f"persistence_location {self.directory / 'data'}/",
            "autosave_interval 1",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            "message_size_limit 1048576",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            f"user {getpass.getuser()}",
            "",
        ]))
        return conf

    def _auth_lines(self) -> list[str]:
        if self.tls is None:
            if not self.users:
                raise BrokerError("a broker without client certificates needs broker users with passwords")
            return [f"password_file {self.directory / 'passwd'}"]
        lines = [f"cafile {self.tls.ca_file}", f"certfile {self.tls.cert_file}", f"keyfile {self.tls.key_file}",
                 "tls_version tlsv1.2"]
        if self.tls.client_certs:
            # The certificate's CN is the user; mosquitto then never looks at a password.
            return [*lines, "require_certificate true", "use_identity_as_username true"]
        if not self.users:
            raise BrokerError("a TLS broker without client certificates needs broker users with passwords")
        return [*lines, f"password_file {self.directory / 'passwd'}"]

    def start(self, timeout: float = 10.0) -> "LocalBroker":
        conf = self.directory / "mosquitto.conf"
        if not conf.exists():
            conf = self.write_config()
        self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log = self.log_path.read_text() if self.log_path.exists() else ""
                raise BrokerError(f"mosquitto exited with {self.proc.returncode}: {err}{log[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise BrokerError(f"mosquitto did not listen on {self.host}:{self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> "LocalBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
