"""1:N search speed of the kiosk gallery at several sizes, against the naive search measured in the same run.

    python -m bench.match --templates 1000,10000,100000 [--per-person 5] [--queries 200]

The gallery holds random unit templates (search cost does not depend on the faces), several per person. The
baseline is the first version's search: the same matmul, then a per-person max with np.maximum.at and a full
argsort over people.
"""

import argparse
import time

import numpy as np

from bench.common import machine, percentiles, print_result, rss_mb
from kiosk.gallery import Gallery, Match

GOAL_MS_AT_100K = 5.0


def naive_search(gallery: Gallery, row_person: np.ndarray, probe: np.ndarray) -> Match:
    """The baseline (kiosk/gallery.py before the search index): np.maximum.at + full sort."""
    people = gallery.people
    scores = gallery.templates @ probe
    best = np.full(len(people), -np.inf, np.float32)
    np.maximum.at(best, row_person, scores)
    order = np.argsort(best)[::-1][:2]
    return Match(people[order[0]], "", float(best[order[0]]), people[order[1]], float(best[order[1]]))


def random_gallery(templates: int, per_person: int, rng: np.random.Generator) -> tuple[Gallery, np.ndarray]:
    """`templates` random unit vectors, per_person each, rows interleaved as enrolment would add them."""
    people = max(2, templates // per_person)
    person_of_row = rng.permutation(np.arange(templates) % people)
    ids = [f"emp-{p:06d}" for p in person_of_row]
    gallery = Gallery()
    gallery.add_many(ids, rng.standard_normal((templates, 128)).astype(np.float32))
    pos = {p: i for i, p in enumerate(gallery.people)}
    return gallery, np.array([pos[p] for p in ids], np.intp)


def time_interleaved(fns: list, probes: np.ndarray, warmup: int) -> list[tuple[list[float], list]]:
    """Per function (timings in ms, results). The functions take turns on each probe, so a busy machine
    slows them alike and the comparison with the baseline stays fair."""
    for probe in probes[:warmup]:
        for fn in fns:
            fn(probe)
    out = [([], []) for _ in fns]
    for probe in probes:
        for fn, (samples, results) in zip(fns, out, strict=True):
            start = time.perf_counter()
            results.append(fn(probe))
            samples.append((time.perf_counter() - start) * 1000)
    return out


def measure(templates: int, per_person: int, queries: int, warmup: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    gallery, row_person = random_gallery(templates, per_person, rng)
    start = time.perf_counter()
    gallery.freeze()  # builds the search index once, as GalleryHolder.swap does before publishing
    index_ms = (time.perf_counter() - start) * 1000
    probes = rng.standard_normal((queries, 128)).astype(np.float32)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    (fast, fast_results), (slow, slow_results) = time_interleaved(
        [gallery.search, lambda p: naive_search(gallery, row_person, p)], probes, warmup)
    agree = all(a.person_id == b.person_id and a.second_person_id == b.second_person_id
                and abs(a.score - b.score) < 1e-5 for a, b in zip(fast_results, slow_results, strict=True))
    new, base = percentiles(fast), percentiles(slow)
    return {"people": len(gallery.people), "ms_p50": new["ms_p50"], "ms_p95": new["ms_p95"],
            "ms_min": round(min(fast), 3), "baseline_ms_p50": base["ms_p50"], "baseline_ms_p95": base["ms_p95"],
            "baseline_ms_min": round(min(slow), 3),
            "speedup_p50": round(base["ms_p50"] / max(new["ms_p50"], 1e-9), 2),
            "index_build_ms": round(index_ms, 2), "results_agree": agree}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.match", description=__doc__.splitlines()[0])
    parser.add_argument("--templates", default="1000,10000,100000", help="comma-separated gallery sizes")
    parser.add_argument("--per-person", type=int, default=5, help="templates per person")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.templates.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--templates must be comma-separated integers, got {args.templates!r}")
    if not sizes or min(sizes) < 2 or args.per_person < 1 or args.queries < 1:
        parser.error("sizes must be >= 2, --per-person and --queries >= 1")
    result = {"bench": "match", "templates_per_person": args.per_person, "queries": args.queries,
              "baseline": "np.maximum.at per-person max + full argsort (the first gallery search)",
              "sizes": {}}
    for n in sizes:
        result["sizes"][str(n)] = measure(n, args.per_person, args.queries, args.warmup, args.seed)
        print(f"{n} templates: {result['sizes'][str(n)]}")
    if 100_000 in sizes:
        result["goal_ms_p95_at_100k"] = GOAL_MS_AT_100K
        result["goal_met"] = result["sizes"]["100000"]["ms_p95"] <= GOAL_MS_AT_100K
    result["rss_mb"] = rss_mb()
    result["machine"] = machine()
    print_result(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
