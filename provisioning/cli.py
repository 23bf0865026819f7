"""`hajiri provision`: create a kiosk's identity (device id, site, Ed25519 key) and print its public key."""

import argparse
import json
import sys
from pathlib import Path

from provisioning.identity import (
    IdentityError,
    add_enc_key,
    create_identity,
    install_server_key,
    load_identity,
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device-id", required=True, help="lower-case id, e.g. kiosk-dl-0001 (also its broker user)")
    parser.add_argument("--site-id", required=True, help="the office or hostel the kiosk stands in")
    parser.add_argument("--dir", type=Path, default=Path("/var/lib/hajiri/device"),
                        help="where device.json and device_key.pem go (default: %(default)s)")
    parser.add_argument("--server-key", metavar="B64_OR_FILE",
                        help="the central server's public signing key (base64, or a file holding it; "
                             "GET /api/v1/downlink/server-key): downlinks are verified with it")
    parser.add_argument("--add-enc-key", action="store_true",
                        help="give an existing identity (provisioned before downlinks) its X25519 gallery key")


def run(args: argparse.Namespace) -> int:
    try:
        if args.add_enc_key:
            existing = load_identity(args.dir)
            if (existing.device_id, existing.site_id) != (args.device_id, args.site_id):
                raise IdentityError(f"{args.dir} holds {existing.device_id} at {existing.site_id}, not "
                                    f"{args.device_id} at {args.site_id}")
            identity = add_enc_key(args.dir)
        else:
            identity = create_identity(args.dir, args.device_id, args.site_id)
        server_key_id = None
        if args.server_key:
            text = Path(args.server_key).read_text() if Path(args.server_key).is_file() else args.server_key
            server_key_id = install_server_key(args.dir, text)
    except IdentityError as e:
        print(f"hajiri provision: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"device_id": identity.device_id, "site_id": identity.site_id,
                      "public_key": identity.public_key_b64, "enc_public_key": identity.enc_public_key_b64,
                      "server_key_id": server_key_id}))
    return 0
