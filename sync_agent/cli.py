"""`hajiri sync`: run the sync agent from a TOML config until SIGTERM or SIGINT."""

import argparse
import logging
import sys
from pathlib import Path

from hajiri_common.config import ConfigError, load_config, parse_config
from hajiri_common.signals import stop_on_signals
from provisioning.identity import IdentityError
from sync_agent.agent import SyncAgent, SyncError
from sync_agent.config import SyncConfig

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None,
                        help="TOML config (keys: device_dir, store, batch_size, ..., [mqtt], [mqtt.tls]); "
                             "defaults when omitted")
    parser.add_argument("--broker-host", help="overrides mqtt.host")
    parser.add_argument("--broker-port", type=int, help="overrides mqtt.port")
    parser.add_argument("--password-file", type=Path, help="overrides mqtt.password_file (and drops mqtt.password)")
    parser.add_argument("--store", type=Path, help="overrides store: the kiosk's record database")
    parser.add_argument("--device-dir", type=Path, help="overrides device_dir: device.json and device_key.pem")


def build_config(args: argparse.Namespace) -> SyncConfig:
    """The config file's settings with the command-line overrides on top, validated once more as a whole."""
    base = load_config(SyncConfig, args.config)
    data = base.model_dump(exclude_unset=True)
    mqtt = dict(data.get("mqtt", {}))
    if args.broker_host is not None:
        mqtt["host"] = args.broker_host
    if args.broker_port is not None:
        mqtt["port"] = args.broker_port
    if args.password_file is not None:
        mqtt.pop("password", None)
        mqtt["password_file"] = args.password_file
    data["mqtt"] = mqtt
    if args.store is not None:
        data["store"] = args.store
    if args.device_dir is not None:
        data["device_dir"] = args.device_dir
    return parse_config(SyncConfig, data, f"{args.config or 'defaults'} with command-line overrides")


def run(args: argparse.Namespace) -> int:
    try:
        config = build_config(args)
        agent = SyncAgent(config)
    except (ConfigError, IdentityError) as e:
        print(f"hajiri sync: {e}", file=sys.stderr)
        return 2
    try:
        with stop_on_signals() as stop:
            agent.run(stop)
    except SyncError as e:
        print(f"hajiri sync: {e}", file=sys.stderr)
        return 1
    return 0
