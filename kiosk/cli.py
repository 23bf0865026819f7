"""`hajiri kiosk --config FILE`: run the kiosk on its camera (or a replay) until stopped."""

import argparse
import json
import sys
from pathlib import Path

from hajiri_common.config import ConfigError
from hajiri_common.signals import stop_on_signals


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="kiosk TOML config (default: built-in defaults)")
    parser.add_argument("--source", help="override the frame source: folder:/path, video:/path, v4l2:0, picamera2")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames (replays, tests)")
    parser.add_argument("--decisions-log", type=Path, help="append one JSON line per decision to this file")
    parser.add_argument("--stats", type=Path, help="write run stats JSON here at exit")


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
    try:
        with stop_on_signals() as stop, open_source(config.source) as source:
            stats = run_kiosk(config, source, stop)
    except (GalleryError, IdentityError, SourceError) as e:
        print(f"hajiri kiosk: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in stats.to_dict().items() if k != "timings_ms"}))
    return 0
