"""The kiosk loop: frames -> pipeline decisions -> signed records in the local store; survives a full disk."""

import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from edge_models.opencv_runtime import MODEL_VERSION, Detector, Embedder
from edge_models.runtimes import make_detector, make_embedder, version_of
from kiosk import clock
from kiosk.config import KioskConfig, with_site_config
from kiosk.evidence import keep_crop, open_evidence
from kiosk.gallery import Gallery, GalleryError, GalleryHolder, load_gallery
from kiosk.gallery_watch import GalleryWatch, SiteConfigWatch
from kiosk.identity_watch import IdentityWatch
from kiosk.pipeline import Decision, Pipeline
from kiosk.screen import PromptWriter, prompt_path_for
from kiosk.store import Observation, StoreError, append_record, open_store
from provisioning.identity import DeviceIdentity, load_identity

log = logging.getLogger(__name__)


@dataclass
class KioskStats:
    """What one kiosk run did; written as JSON at exit when `stats_path` is configured."""

    started: float = field(default_factory=time.time)
    ended: float | None = None
    records_written: int = 0
    store_errors: int = 0
    pipeline: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"started": self.started, "ended": self.ended, "records_written": self.records_written,
                "store_errors": self.store_errors, **self.pipeline, "timings_ms": self.timings}


def _frames(frames: Iterable, config: KioskConfig,
            stop: threading.Event | None) -> Iterator[tuple[int, object, float]]:
    """(index, image, t) from Frame objects or tuples; honours max_frames, replay pacing and the stop event."""
    start = time.monotonic()
    for n, item in enumerate(frames):
        if stop is not None and stop.is_set():
            return
        if config.max_frames is not None and n >= config.max_frames:
            return
        if config.replay_fps:
            delay = start + n / config.replay_fps - time.monotonic()
            if delay > 0 and (stop.wait(delay) if stop is not None else time.sleep(delay)):
                return
        if hasattr(item, "image"):
            yield item.index, item.image, item.t
        else:
            index, image, t = item
            yield index, image, t


def _store(db: sqlite_utils.Database, identity: DeviceIdentity, decision: Decision,
           stats: KioskStats, model_version: str = MODEL_VERSION) -> str | None:
    live = decision.liveness_score  # None when liveness is disabled for this kiosk
    obs = Observation(person_id=decision.person_id, event=decision.event, wall_time=time.time(),
                      boot_id=clock.boot_id(), mono_ns=clock.mono_ns(), clock_synced=clock.clock_synced(),
                      match_score=max(-1.0, min(1.0, decision.match_score)),
                      liveness_score=None if live is None else min(1.0, max(0.0, live)),
                      model_version=model_version)
    try:
        record = append_record(db, identity, obs)
    except StoreError as e:
        # Loud, counted, and the kiosk keeps looking: the next decision may find space again.
        stats.store_errors += 1
        log.error("RECORD NOT STORED (%s for %s, track %d): %s", decision.event, decision.person_id,
                  decision.track_id, e)
        return None
    stats.records_written += 1
    return record.record_id


def run_kiosk(config: KioskConfig, frames: Iterable, stop: threading.Event | None = None, *,
              identity: DeviceIdentity | None = None, gallery: Gallery | GalleryHolder | None = None,
              detector: Detector | None = None, embedder: Embedder | None = None,
              db: sqlite_utils.Database | None = None) -> KioskStats:
    """Run until frames end or `stop` is set; every decision becomes a signed record. Returns the run's stats."""
    identity = identity or load_identity(config.device_dir)
    # The server's verified site settings over the local ones, when the sync agent wrote some.
    local_config, config = config, with_site_config(config)
    gallery = gallery if gallery is not None else load_gallery(config.gallery_path, config.key_path)
    if gallery.model_version != MODEL_VERSION:
        # Templates from another model are not comparable: every match would be noise.
        raise GalleryError(f"gallery was enrolled with {gallery.model_version}, this kiosk runs {MODEL_VERSION}; "
                           "re-enrol the photos with `hajiri enrol`")
    detector = detector or make_detector(config.models.detector, config.detector_score_threshold)
    embedder = embedder or make_embedder(config.models.recogniser_runtime)
    version = version_of(detector, embedder)  # what each record says produced its match score
    own_db = db is None
    db = db if db is not None else open_store(config.store_path)
    # Searched through a holder, so a gallery the sync agent writes is swapped in between frames.
    holder = gallery if isinstance(gallery, GalleryHolder) else GalleryHolder(gallery)
    watch = GalleryWatch(config.gallery_path, config.key_path, holder, config.gallery_reload_s)
    pipeline = Pipeline(config, holder, detector, embedder)
    site_watch = SiteConfigWatch(local_config, pipeline, config.gallery_reload_s)
    # A key rotation (done by the sync agent) rewrites device.json: sign with the new key from the next record.
    identity_watch = IdentityWatch(config.device_dir, identity, config.gallery_reload_s)
    evidence = open_evidence(config)
    # The challenge prompt ("Please blink") goes to the screen process through a small file beside the store.
    prompt = PromptWriter(prompt_path_for(config.store_path))
    stats = KioskStats()
    log_file = open(config.decisions_log, "a") if config.decisions_log else None  # noqa: SIM115 - closed below
    last_t = 0.0

    def handle(decisions: list[Decision]) -> None:
        for d in decisions:
            record_id = _store(db, identity, d, stats, version)
            keep_crop(evidence, record_id, d.evidence_crop, time.time())
            log.info("decision: %s %s score=%.3f frames %d-%d", d.event, d.person_id, d.match_score,
                     d.first_frame, d.last_frame)
            if log_file is not None:
                log_file.write(json.dumps({**d.to_dict(), "record_id": record_id}) + "\n")
                log_file.flush()

    try:
        for index, image, t in _frames(frames, config, stop):
            last_t = t
            watch.poll()
            site_watch.poll()
            identity = identity_watch.poll()
            handle(pipeline.process(index, image, t))
            prompt.update(pipeline.prompt)
        handle(pipeline.finish(last_t))
    finally:
        prompt.update(None)  # no challenge outlives the loop (a crash leaves one that the screen lets expire)
        stats.ended = time.time()
        stats.pipeline = pipeline.counters.to_dict()
        stats.timings = pipeline.stats.summary()
        if log_file is not None:
            log_file.close()
        if own_db:
            db.close()
        if config.stats_path is not None:
            write_stats(stats, config.stats_path)
    return stats


def write_stats(stats: KioskStats, path: Path) -> None:
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(stats.to_dict(), indent=2) + "\n")
    tmp.replace(path)
