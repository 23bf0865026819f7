"""`hajiri pki`: a site CA for MQTT over TLS, the broker's certificate, and client certificates per device."""

import argparse
import json
import sys
from pathlib import Path

from provisioning.pki import PkiError, create_ca, issue_broker_cert, issue_client_cert, load_ca


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["init", "broker", "client"],
                        help="init: create the CA; broker: the broker's TLS certificate; client: a certificate "
                             "whose common name is a broker user (a device id, or central-ingest for the server)")
    parser.add_argument("--ca-dir", type=Path, default=Path("/etc/hajiri/pki"),
                        help="where ca.pem and ca.key live (default: %(default)s); keep ca.key off the kiosks")
    parser.add_argument("--out", type=Path, default=None,
                        help="where the new certificate and key go (default: the CA directory)")
    parser.add_argument("--host", action="append", default=[],
                        help="broker: a host name or IP address the certificate is valid for (repeat for more)")
    parser.add_argument("--user", help="client: the broker user, i.e. the device id or central-ingest")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "init":
            ca = create_ca(args.ca_dir)
            print(json.dumps({"ca_cert": str(ca.files.cert_file), "ca_key": str(ca.files.key_file)}))
            return 0
        ca = load_ca(args.ca_dir)
        out = args.out or args.ca_dir
        if args.action == "broker":
            if not args.host:
                raise PkiError("broker: give at least one --host (the name or address kiosks connect to)")
            pair = issue_broker_cert(ca, out, args.host)
        else:
            if not args.user:
                raise PkiError("client: give --user (the device id, or central-ingest for the server)")
            pair = issue_client_cert(ca, out, args.user)
    except PkiError as e:
        print(f"hajiri pki: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"cert": str(pair.cert_file), "key": str(pair.key_file), "ca_cert": str(ca.files.cert_file)}))
    return 0
