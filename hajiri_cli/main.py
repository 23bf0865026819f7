"""`hajiri <subcommand>`: dispatches to the component that owns each job; every subcommand has --help."""

import argparse
import importlib
import logging
import sys

# subcommand -> (module, one-line help). Each module defines configure(parser) and run(args) -> int.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "kiosk": ("kiosk.cli", "run the kiosk: camera, face pipeline, local record store"),
    "screen": ("kiosk.screen_cli", "serve the kiosk screen (name, IN/OUT, time) for the Pi's display"),
    "enrol": ("kiosk.enrol_cli", "build a kiosk gallery (encrypted templates) from photos of people"),
    "sync": ("sync_agent.cli", "run the sync agent: kiosk outbox to the central server over MQTT"),
    "server": ("central_server.cli", "run the central server (API, dashboard, MQTT ingest) or manage it"),
    "provision": ("provisioning.cli", "give a kiosk its identity: device id, site, signing key"),
    "pki": ("provisioning.pki_cli", "site CA and TLS certificates for the broker, the server and each kiosk"),
    "demo": ("hajiri_demo.run", "local demo: broker, server, a kiosk replaying faces, its sync agent; with "
                                "--serve (always when interactive) a seeded month and a login per role"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hajiri", description="Hajiri face-attendance kiosk and server.")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args._module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
