"""The kiosk's heartbeat: outbox depth, clock offset, temperature, disk, models, last error, boot and uptime."""

import shutil
import time
from pathlib import Path

from hajiri_common.timefmt import utc_iso
from hajiri_wire import Heartbeat
from kiosk.clock import boot_id, clock_synced
from sync_agent.clock_offset import OffsetSample
from sync_agent.stats import SyncStats

THERMAL_ROOT = Path("/sys/class/thermal")
PROC_UPTIME = Path("/proc/uptime")


def cpu_temperature_c(root: Path = THERMAL_ROOT) -> float | None:
    """The hottest thermal zone in degrees C (the Pi's SoC sensor is the CPU); None where there is none."""
    temps = []
    for temp_file in sorted(root.glob("thermal_zone*/temp")):
        try:
            temps.append(int(temp_file.read_text().strip()) / 1000)
        except (OSError, ValueError):
            continue  # a zone that cannot be read right now says nothing
    return max(temps) if temps else None


def disk_free_bytes(path: Path) -> int | None:
    """Free bytes on the file system holding the store (its folder if the file is not there yet)."""
    for candidate in (path, path.parent):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def uptime_s() -> float:
    try:
        return float(PROC_UPTIME.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return time.monotonic()


def build_heartbeat(device_id: str, stats: SyncStats, clock: OffsetSample | None, store: Path,
                    model_version: str | None, *, now: float | None = None, facts: dict | None = None) -> Heartbeat:
    """A heartbeat as of `now` (the kiosk's wall clock); mono_ns is read with it so the server can anchor the boot."""
    mono = time.monotonic_ns()
    now = time.time() if now is None else now
    return Heartbeat(
        device_id=device_id, sent_at=utc_iso(now), boot_id=boot_id()[:64], mono_ns=mono, uptime_s=uptime_s(),
        clock_synced=clock_synced(), clock_offset_s=None if clock is None else round(clock.offset_s, 4),
        clock_rtt_s=None if clock is None else round(clock.rtt_s, 4), queue_depth=stats.queue_depth,
        oldest_unsent_age_s=stats.oldest_unsent_age_s, inflight_batches=stats.inflight_batches,
        cpu_temp_c=cpu_temperature_c(), disk_free_bytes=disk_free_bytes(store),
        model_versions={} if model_version is None else {"recognition": model_version[:128]},
        last_error=None if stats.last_error is None else stats.last_error[:500],
        **(facts or {}))  # liveness_enabled, evidence_pending, evidence_uplink (sync_agent/evidence_upload.py)
