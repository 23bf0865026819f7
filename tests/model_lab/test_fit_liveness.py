"""The liveness fit's cross-validation keeps a person, or a stretch of the replay session, inside one fold."""

import numpy as np

from model_lab.fit_liveness import FOLDS, cross_validate, fold_of


def test_folds_group_people_and_contiguous_stretches() -> None:
    celeba = [f"faces/celeba_dev/{p}/{i:06d}.jpg" for p in (7201, 7206, 7212) for i in range(4)]
    assert all(len({fold_of(r) for r in celeba if f"/{p}/" in r}) == 1 for p in (7201, 7206, 7212))
    live = [fold_of(f"liveness/replay_a/live/{n}.jpg") for n in range(90)]
    spoof = [fold_of(f"liveness/replay_a/spoof/{n}.jpg") for n in range(136)]
    for folds in (live, spoof):
        assert folds == sorted(folds) and set(folds) == set(range(FOLDS))  # blocks in sequence order


def _items() -> tuple[list[tuple[str, str]], list[str], np.ndarray]:
    rows = [(f"liveness/replay_a/live/{n}.jpg", "as-is", 1) for n in range(90)]
    rows += [(f"liveness/replay_a/spoof/{n}.jpg", "as-is", 0) for n in range(136)]
    for p in range(7200, 7240):
        rows += [(f"faces/celeba_dev/{p}/a.jpg", "as-is", 1), (f"faces/celeba_dev/{p}/a.jpg", f"print:{p}", 0)]
    kept = [(rel, how) for rel, how, _ in rows]
    return kept, [rel.split("/")[1] for rel, _ in kept], np.array([lab for *_, lab in rows], float)


def test_cross_validation_counts_errors_on_held_out_folds() -> None:
    rng = np.random.default_rng(0)
    kept, groups, y = _items()
    signal = np.where(y == 1, 3.0, -3.0) + rng.normal(0, 0.3, len(y))
    out = cross_validate(np.column_stack([signal, rng.normal(0, 1, (len(y), 2))]), y, groups, kept)
    assert out["replay_a_apcer"] == {"n": 136, "rate": 0.0} and out["celeba_print_apcer"]["rate"] == 0.0
    assert out["celeba_bpcer"]["n"] == 40 and out["celeba_bpcer"]["rate"] <= 0.1
    # No signal: a threshold that keeps 97% of live faces lets most attacks through.
    noise = cross_validate(rng.normal(0, 1, (len(y), 3)), y, groups, kept)
    assert noise["replay_a_apcer"]["rate"] > 0.5 and noise["celeba_print_apcer"]["rate"] > 0.5
