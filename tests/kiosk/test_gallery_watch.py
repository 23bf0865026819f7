"""The kiosk's side of downlinks: a new gallery file is swapped in between frames; site settings override config."""

import json

import numpy as np

from edge_models.opencv_runtime import EMBEDDING_DIM
from kiosk.config import KioskConfig, with_site_config
from kiosk.gallery import Gallery, GalleryHolder, load_gallery
from kiosk.gallery_watch import GalleryWatch, SiteConfigWatch


def gallery(n: int, seed: int, model: str | None = None) -> Gallery:
    g = Gallery() if model is None else Gallery(model)
    e = np.random.default_rng(seed).normal(size=(n, EMBEDDING_DIM)).astype(np.float32)
    g.add_many([f"p{seed}-{i}" for i in range(n)], e)
    return g


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_new_gallery_file_is_swapped_in_and_a_bad_one_is_not(tmp_path):
    path = tmp_path / "gallery.hjg"
    gallery(2, 1).save(path)
    holder = GalleryHolder(load_gallery(path))
    clock = Clock()
    watch = GalleryWatch(path, None, holder, interval_s=1.0, clock=clock)
    clock.t = 5.0
    assert not watch.poll(), "the file the kiosk started with is not new"

    gallery(3, 2).save(path)
    clock.t = 5.5
    assert not watch.poll(), "polled again before the interval"
    clock.t = 6.1
    assert watch.poll() and holder.people == ["p2-0", "p2-1", "p2-2"] and holder.swaps == 1

    path.write_bytes(b"HJGALLRY\x01" + b"\0" * 40)  # corrupt: logged, the running gallery stays
    clock.t = 8.0
    assert not watch.poll() and watch.failures == 1 and len(holder.people) == 3
    clock.t = 10.0
    assert not watch.poll() and watch.failures == 1, "a broken file is tried once, not every poll"

    gallery(1, 3, model="other-model").save(path)  # templates of another model never replace these
    clock.t = 12.0
    assert not watch.poll() and watch.failures == 2 and len(holder.people) == 3


def test_reload_zero_never_polls(tmp_path):
    path = tmp_path / "gallery.hjg"
    holder = GalleryHolder()
    watch = GalleryWatch(path, None, holder, interval_s=0)
    gallery(2, 1).save(path)
    assert not watch.poll() and len(holder) == 0


def test_site_settings_override_the_local_config_within_its_bounds(tmp_path):
    site = tmp_path / "site_config.json"
    base = KioskConfig(site_config_path=site, debounce_minutes=7.0)
    assert with_site_config(base) is base  # no file yet
    site.write_text(json.dumps({"version": 2, "kiosk_overrides": {"match_threshold": 0.52, "direction": "in",
                                                                   "liveness": {"threshold": 0.4}}}))
    merged = with_site_config(base)
    assert (merged.match_threshold, merged.direction, merged.liveness.threshold) == (0.52, "in", 0.4)
    assert merged.debounce_minutes == 7.0 and merged.liveness.enabled == base.liveness.enabled
    site.write_text(json.dumps({"version": 3, "kiosk_overrides": {"match_threshold": 3.0}}))
    assert with_site_config(base) is base  # out of bounds: ignored, the local settings stay


class FakePipeline:
    """Only what SiteConfigWatch touches: the config read at each decision and the liveness threshold."""

    def __init__(self, config: KioskConfig) -> None:
        self.config = config
        self.fusion = type("Fusion", (), {"threshold": 0.33})()
        self.liveness_threshold = 0.33


def test_a_new_site_config_reaches_the_running_pipeline(tmp_path):
    site = tmp_path / "site_config.json"
    base = KioskConfig(site_config_path=site, match_threshold=0.47, match_margin=0.05)
    pipeline = FakePipeline(base)
    clock = Clock()
    watch = SiteConfigWatch(base, pipeline, interval_s=1.0, clock=clock)
    clock.t = 2.0
    assert not watch.poll()
    site.write_text(json.dumps({"version": 1, "kiosk_overrides": {"match_threshold": 0.55,
                                                                   "liveness": {"threshold": 0.5}}}))
    clock.t = 4.0
    assert watch.poll()
    assert (pipeline.config.match_threshold, pipeline.config.match_margin, pipeline.liveness_threshold) == \
        (0.55, 0.05, 0.5)
    site.write_text(json.dumps({"version": 2, "kiosk_overrides": {"debounce_minutes": 1.0}}))
    clock.t = 6.0
    assert watch.poll()  # overrides apply to the local config, not on top of the previous site config
    assert (pipeline.config.match_threshold, pipeline.config.debounce_minutes, pipeline.liveness_threshold) == \
        (0.47, 1.0, 0.33)
