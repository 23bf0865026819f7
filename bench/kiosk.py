"""End-to-end kiosk speed on a replayed 640x480 walk-past: fps, per-stage ms, decision latency, memory.

    python -m bench.kiosk [--runtime opencv|litert|blazeface|blazeface_short ...] [--frames N] [--people 5] [--strangers 3]
        [--seed 0]

The clip is built by hajiri_demo.walkpast from hajiri_demo.faces (CelebA photos from ../shared/data when present,
else the pip-fetched fallback faces), kept in memory and fed to kiosk.pipeline.Pipeline as fast as it runs.
Decision latency is processing time from the start of the first frame of a track to the end of the frame
that produced its decision (at a 25 fps camera the track also needs that many frames of wall time:
decision_frames_* says how many). The baseline, measured in the same run on the same frames, is detection
alone: the ceiling any pipeline with this detector can reach.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from bench.common import machine, peak_rss_mb, percentiles, print_result, rss_mb
from kiosk.config import KioskConfig
from kiosk.gallery import Gallery

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
T0 = 1_764_000_000.0  # frame times: a fixed morning, not the wall clock
CAMERA_FPS = 25.0
GOAL_FPS, GOAL_DECISION_MS_P95 = 25.0, 300.0


# Benchmark name -> (detector, recogniser runtime) from edge_models/runtimes.py. "opencv" is the original
# all-OpenCV pipeline; "litert" swaps in the TFLite SFace; "blazeface" runs both models on LiteRT.
COMBOS = {"opencv": ("yunet", "opencv"), "litert": ("yunet", "litert"), "blazeface": ("blazeface", "litert"),
          "blazeface_short": ("blazeface_short", "litert")}
RUNTIMES = tuple(COMBOS)
DEFAULT_RUNTIMES = ("opencv", "litert", "blazeface")  # blazeface_short misses the small, far faces of the clip


def make_runtime(name: str):
    """(detector, embedder) of a benchmark runtime by name."""
    from edge_models.runtimes import make_detector, make_embedder

    if name not in COMBOS:
        raise SystemExit(f"unknown runtime {name!r}; have: {', '.join(COMBOS)}")
    detector, recogniser = COMBOS[name]
    config = KioskConfig(models={"detector": detector, "recogniser_runtime": recogniser})
    return make_detector(detector, config.detector_score_threshold), make_embedder(recogniser)


def enrol(face_set, detector, embedder) -> Gallery:
    """Gallery of the face set's people from their enrol photos (largest face of each)."""
    from hajiri_demo.faces import load_image

    gallery = Gallery()
    for person in face_set.people:
        for photo in person.enrol:
            image = load_image(photo)
            faces = detector.detect(image)
            if faces:
                gallery.add(person.person_id, person.name,
                            embedder.embed_face(image, max(faces, key=lambda f: f.size)))
    return gallery.freeze()


def build_clip(shared_data: Path | None, people: int, strangers: int, seed: int):
    from hajiri_demo.faces import load_face_set
    from hajiri_demo.walkpast import build_walkpast, plan_passers

    face_set = load_face_set(shared_data, seed=seed, people=people, strangers=strangers)
    return face_set, build_walkpast(plan_passers(face_set, seed), seed=seed)


def clip_frames(walkpast, n: int | None) -> list[np.ndarray]:
    """The clip's frames, repeated to n frames when n is longer (the tracker sees the same people again)."""
    n = n or len(walkpast.frames)
    return [walkpast.frames[i % len(walkpast.frames)] for i in range(n)]


def detect_only(frames: list[np.ndarray], detector) -> dict:
    start = time.perf_counter()
    for frame in frames:
        detector.detect(frame)
    elapsed = time.perf_counter() - start
    return {"what": "this runtime's detection alone on the same frames", "fps": round(len(frames) / elapsed, 2)}


def score(walkpast, decisions: list) -> dict:
    """Decisions against the clip's truth (only meaningful within the first pass of the clip)."""
    from hajiri_demo.walkpast import segment_for

    right = wrong = strangers_accepted = unknown = 0
    n = len(walkpast.frames)
    for d in decisions:
        if d.last_frame >= n:
            continue
        seg = segment_for(walkpast, d.first_frame, d.last_frame)
        truth = seg.person_id if seg else None
        if d.person_id is None:
            unknown += 1
        elif d.person_id == truth:
            right += 1
        elif truth is None:
            strangers_accepted += 1
        else:
            wrong += 1
    known = sum(1 for s in walkpast.segments if s.person_id)
    return {"passers_known": known, "passers_strangers": len(walkpast.segments) - known, "recognised": right,
            "misidentified": wrong, "strangers_accepted": strangers_accepted, "unknown": unknown}


def run_pipeline(frames: list[np.ndarray], gallery: Gallery, detector, embedder) -> tuple[dict, list]:
    """Feed every frame; per-frame processing times give fps and the decision latency."""
    from kiosk.pipeline import Pipeline

    pipeline = Pipeline(KioskConfig(), gallery, detector, embedder)
    starts, ends, decisions = [], [], []
    latencies, frames_to_decide = [], []

    def note(found: list, frame: int) -> None:
        for d in found:
            decisions.append(d)
            latencies.append((ends[frame] - starts[d.first_frame]) * 1000)
            frames_to_decide.append(frame - d.first_frame + 1)

    begin = time.perf_counter()
    for i, frame in enumerate(frames):
        starts.append(time.perf_counter())
        found = pipeline.process(i, frame, T0 + i / CAMERA_FPS)
        ends.append(time.perf_counter())
        note(found, i)
    elapsed = time.perf_counter() - begin
    found = pipeline.finish(T0 + len(frames) / CAMERA_FPS)
    ends[-1] = time.perf_counter()
    note(found, len(frames) - 1)
    stages = {stage: percentiles(samples) for stage, samples in pipeline.stats.samples.items()}
    lat, fr = percentiles(latencies), percentiles(frames_to_decide)
    return {
        "fps": round(len(frames) / elapsed, 2), "frames": len(frames),
        "stages": stages,
        "decision_ms_p50": lat["ms_p50"], "decision_ms_p95": lat["ms_p95"],
        "decision_frames_p50": fr["ms_p50"], "decision_frames_p95": fr["ms_p95"],
        "decisions": len(decisions), "counters": pipeline.counters.to_dict(),
    }, decisions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kiosk", description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", choices=RUNTIMES, action="append",
                        help=f"runtime(s) to measure (default: {', '.join(DEFAULT_RUNTIMES)})")
    parser.add_argument("--frames", type=int, default=None, help="frames to process (default: whole clip)")
    parser.add_argument("--people", type=int, default=5)
    parser.add_argument("--strangers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA,
                        help="face data (default ../shared/data; the fallback faces are used when absent)")
    args = parser.parse_args(argv)
    if args.frames is not None and args.frames < 1:
        parser.error("--frames must be >= 1")
    shared = args.shared_data if args.shared_data.is_dir() else None
    face_set, walkpast = build_clip(shared, args.people, args.strangers, args.seed)
    frames = clip_frames(walkpast, args.frames)
    h, w = frames[0].shape[:2]
    result = {"bench": "kiosk", "clip": {"source": face_set.source_name, "size": f"{w}x{h}",
                                         "frames": len(frames), "clip_frames": len(walkpast.frames),
                                         "passers": len(walkpast.segments)},
              "goals": {"fps": GOAL_FPS, "decision_ms_p95": GOAL_DECISION_MS_P95}, "runtimes": {}}
    for name in args.runtime or DEFAULT_RUNTIMES:
        detector, embedder = make_runtime(name)
        gallery = enrol(face_set, detector, embedder)
        baseline = detect_only(frames, detector)
        # One passer through a throwaway pipeline first: one-time set-up (liveness flow and FFT plans, the
        # interpreter's first invoke) is paid once per kiosk process, not per track, so it is not measured.
        run_pipeline(frames[:walkpast.segments[0].last_frame + 2], gallery, detector, embedder)
        figures, decisions = run_pipeline(frames, gallery, detector, embedder)
        from edge_models.runtimes import version_of

        figures.update(baseline_detect_only_fps=baseline["fps"], accuracy=score(walkpast, decisions),
                       rss_mb=rss_mb(), gallery_templates=len(gallery), detector=COMBOS[name][0],
                       recogniser_runtime=COMBOS[name][1], model_version=version_of(detector, embedder))
        result["runtimes"][name] = figures
        print(f"{name}: {figures}")
    result["baseline"] = "detect-only fps per runtime (baseline_detect_only_fps), same frames, same run"
    result["warmup"] = "the first passer once through a throwaway pipeline per runtime, not measured"
    result["peak_rss_mb"] = peak_rss_mb()
    result["machine"] = machine()
    print_result(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
