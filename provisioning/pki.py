"""A small site PKI for MQTT over TLS: a CA, the broker's server certificate, one client certificate per device.

A device's certificate carries its device id as the subject common name. The broker runs with
`use_identity_as_username`, so the id in the certificate becomes the broker user and the per-device ACL
(`pattern ... dev/%u/...`) applies as it does with passwords. Keys are EC P-256 and written with mode 0600;
certificates are public. A state runs its own CA (or an HSM-backed one); this is for a site, tests and the demo.
"""

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import TypeAdapter, ValidationError

from hajiri_common.files import create_private, read_private
from hajiri_wire.record import DeviceId

CA_DAYS = 3650
LEAF_DAYS = 825  # the longest leaf lifetime clients commonly accept


class PkiError(RuntimeError):
    """A CA or certificate that cannot be created or loaded as asked."""


@dataclass(frozen=True)
class CertPair:
    """A certificate and its private key on disk."""

    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class Ca:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    files: CertPair


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    create_private(path, data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _refuse_overwrite(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            raise PkiError(f"{path} already exists; refusing to overwrite a key or certificate")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hajiri"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(days: int) -> tuple[dt.datetime, dt.datetime]:
    # A little slack backwards: a Pi whose clock is a few minutes behind must still accept a new certificate.
    now = dt.datetime.now(dt.UTC)
    return now - dt.timedelta(hours=1), now + dt.timedelta(days=days)


def create_ca(directory: Path, name: str = "Hajiri site CA") -> Ca:
    """A new self-signed CA in `directory` (ca.pem, ca.key)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = CertPair(directory / "ca.pem", directory / "ca.key")
    _refuse_overwrite(files.cert_file, files.key_file)
    key = ec.generate_private_key(ec.SECP256R1())
    not_before, not_after = _validity(CA_DAYS)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=True, crl_sign=True, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write_key(files.key_file, key)
    _write_cert(files.cert_file, cert)
    return Ca(cert, key, files)


def load_ca(directory: Path) -> Ca:
    directory = Path(directory)
    files = CertPair(directory / "ca.pem", directory / "ca.key")
    try:
        cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
        key = serialization.load_pem_private_key(read_private(files.key_file, "CA key", missing_ok=True),
                                                 password=None)
    except FileNotFoundError as e:
        raise PkiError(f"{directory}: no CA ({e.filename} missing); create one first") from e
    except ValueError as e:
        raise PkiError(f"{directory}: CA files unreadable: {e}") from e
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{files.key_file}: not an EC private key")
    return Ca(cert, key, files)


def _issue(ca: Ca, common_name: str, out: CertPair, *, server_hosts: list[str] | None = None) -> CertPair:
    _refuse_overwrite(out.cert_file, out.key_file)
    out.cert_file.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    not_before, not_after = _validity(LEAF_DAYS)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name)).issuer_name(ca.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if server_hosts:
        names: list[x509.GeneralName] = []
        for host in server_hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = (builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    _write_key(out.key_file, key)
    _write_cert(out.cert_file, cert)
    return out


def issue_broker_cert(ca: Ca, directory: Path, hosts: list[str]) -> CertPair:
    """The broker's TLS certificate, valid for these host names / IP addresses."""
    if not hosts:
        raise PkiError("the broker certificate needs at least one host name or IP address")
    directory = Path(directory)
    return _issue(ca, hosts[0], CertPair(directory / "broker.pem", directory / "broker.key"), server_hosts=hosts)


def issue_client_cert(ca: Ca, directory: Path, user: str) -> CertPair:
    """A client certificate whose common name is the broker user: a device id, or the server's account."""
    try:  # the CN becomes an MQTT topic level through the ACL: it must be a valid id, no '+', '#' or '/'
        TypeAdapter(DeviceId).validate_python(user)
    except ValidationError as e:
        raise PkiError(f"client certificate user {user!r} is not allowed: {e.errors()[0]['msg']}") from e
    directory = Path(directory)
    return _issue(ca, user, CertPair(directory / f"{user}.pem", directory / f"{user}.key"))
