"""`hajiri kiosk --config FILE`: run the kiosk on its camera (or a replay) until stopped."""

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from hajiri_common.config import ConfigError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="kiosk TOML config (default: built-in defaults)")
    parser.add_argument("--source", help="override the frame source: folder:/path, video:/path, v4l2:0, picamera2")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames (replays, tests)")
    parser.add_argument("--decisions-log", type=Path, help="append one JSON line per decision to this file")
    parser.add_argument("--stats", type=Path, help="write run stats JSON here at exit")


def _stop_on_signals(stop: threading.Event) -> dict:
    """SIGTERM/SIGINT end the loop cleanly (the current record is committed first); returns the old handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}


def run(args: argparse.Namespace) -> int:
    from kiosk.camera import SourceError, open_source
    from kiosk.config import load_kiosk_config
    from kiosk.gallery import GalleryError
    from kiosk.runner import run_kiosk
    from provisioning.identity import IdentityError

    try:
        config = load_kiosk_config(args.config)
        overrides = {"source": args.source, "max_frames": args.max_frames, "decisions_log": args.decisions_log,
                     "stats_path": args.stats}
        given = {k: v for k, v in overrides.items() if v is not None}
        config = config.model_validate({**config.model_dump(), **given})
    except (ConfigError, ValueError) as e:
        print(f"hajiri kiosk: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous = _stop_on_signals(stop)
    try:
        with open_source(config.source) as source:
            stats = run_kiosk(config, source, stop)
    except (GalleryError, IdentityError, SourceError) as e:
        print(f"hajiri kiosk: {e}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(json.dumps({k: v for k, v in stats.to_dict().items() if k != "timings_ms"}))
    return 0
