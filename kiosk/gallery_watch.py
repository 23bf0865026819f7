"""Between frames: notice a new gallery or site config (written by the sync agent) and swap it into the kiosk."""

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.config import KioskConfig, with_site_config
from kiosk.gallery import GalleryError, GalleryHolder, load_gallery

log = logging.getLogger(__name__)


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime_ns): the sync agent replaces the file atomically, so a new gallery is a new inode."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class FileChange:
    """Says, at most every `interval_s`, whether `path` was replaced since it was last seen: one stat per check,
    so the kiosk can ask between every frame. The file as it is at construction counts as seen."""

    def __init__(self, path: Path | None, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.path, self.interval_s, self._clock = path, interval_s, clock
        self._seen = None if path is None else file_signature(path)
        self._next = clock() + interval_s

    def changed(self) -> bool:
        if self.path is None or self.interval_s <= 0:
            return False
        now = self._clock()
        if now < self._next:
            return False
        self._next = now + self.interval_s
        sig = file_signature(self.path)
        if sig is None or sig == self._seen:
            return False
        self._seen = sig
        return True


class GalleryWatch:
    """Polls the gallery file's signature at most every `interval_s`; a changed file is loaded and swapped in.

    A file that will not load (bad key, corrupt, other model) is logged once and the running gallery is kept:
    the kiosk never stops recognising because of a bad update.
    """

    def __init__(self, path: Path, key_path: Path | None, holder: GalleryHolder, interval_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path, self.key_path, self.holder = Path(path), key_path, holder
        # The file the kiosk started with is already in the holder.
        self._change = FileChange(self.path, interval_s, clock)
        self.swaps = 0
        self.failures = 0

    def poll(self) -> bool:
        """Cheap when nothing changed (one stat, at most every interval); True when a new gallery went in."""
        if not self._change.changed():
            return False
        try:
            gallery = load_gallery(self.path, self.key_path)
            # The running gallery's model was checked at kiosk start (an empty one carries the kiosk's own).
            if gallery.model_version != self.holder.model_version:
                raise GalleryError(f"enrolled with {gallery.model_version}, this kiosk runs "
                                   f"{self.holder.model_version}")
            self.holder.swap(gallery)
        except GalleryError as e:
            self.failures += 1
            log.error("new gallery file %s not loaded, keeping the running one (%d people): %s", self.path,
                      len(self.holder), e)
            return False
        self.swaps += 1
        log.info("gallery reloaded from %s: %d people, %d templates", self.path, len(gallery.people), len(gallery))
        return True


class SiteConfigWatch:
    """Polls the site config file (config.site_config_path); a new one is applied to the running pipeline.

    The thresholds, margin, debounce and direction are read by the pipeline at each decision, so replacing its
    config takes effect at the next track; the liveness threshold is copied too. Tracking settings are not
    site settings and never change here.
    """

    def __init__(self, base: KioskConfig, pipeline: object, interval_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base, self.pipeline = base, pipeline
        self.path = base.site_config_path
        self._change = FileChange(self.path, interval_s, clock)
        self.applied = 0

    def poll(self) -> bool:
        if not self._change.changed():
            return False
        config = with_site_config(self.base)  # a bad file is logged there and gives the base config back
        self.pipeline.config = config
        fusion = getattr(self.pipeline, "fusion", None)
        if fusion is not None:  # None: liveness disabled locally, and a site config never enables it
            self.pipeline.liveness_threshold = config.liveness.threshold if config.liveness.threshold is not None \
                else fusion.threshold
        self.applied += 1
        log.info("site config reloaded from %s: threshold %.3f, margin %.3f, debounce %.1f min, direction %s",
                 self.path, config.match_threshold, config.match_margin, config.debounce_minutes, config.direction)
        return True
