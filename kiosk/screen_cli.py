"""`hajiri screen`: serve the kiosk screen page (name, IN/OUT, time) from the kiosk's own store."""

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="the kiosk's TOML config (store and gallery paths)")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default: %(default)s, this Pi only)")
    parser.add_argument("--port", type=int, default=8090, help="listen port (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from hajiri_common.config import ConfigError
    from kiosk.config import load_kiosk_config
    from kiosk.gallery import GalleryError, load_gallery
    from kiosk.screen import notices_path_for, serve_screen

    try:
        config = load_kiosk_config(args.config)
        names = load_gallery(config.gallery_path, config.key_path).names
    except (ConfigError, GalleryError) as e:
        print(f"hajiri screen: {e}", file=sys.stderr)
        return 2
    server = serve_screen(config.store_path, names, args.host, args.port, notices_path=notices_path_for(config))
    print(f"kiosk screen on http://{args.host}:{server.server_address[1]}/", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
