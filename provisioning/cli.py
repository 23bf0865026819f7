"""`hajiri provision`: create a kiosk's identity (device id, site, Ed25519 key) and print its public key."""

import argparse
import json
import sys
from pathlib import Path

from provisioning.identity import IdentityError, create_identity


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device-id", required=True, help="lower-case id, e.g. kiosk-dl-0001 (also its broker user)")
    parser.add_argument("--site-id", required=True, help="the office or hostel the kiosk stands in")
    parser.add_argument("--dir", type=Path, default=Path("/var/lib/hajiri/device"),
                        help="where device.json and device_key.pem go (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    try:
        identity = create_identity(args.dir, args.device_id, args.site_id)
    except IdentityError as e:
        print(f"hajiri provision: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"device_id": identity.device_id, "site_id": identity.site_id,
                      "public_key": identity.public_key_b64}))
    return 0
