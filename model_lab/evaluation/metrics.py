"""Verification and identification metrics: k-fold accuracy, TAR at FAR, rank-1, FNIR at FPIR.

A photo in which no face was found gives a NaN score. In accuracy such a pair is wrong at every threshold.
In the rate metrics the kiosk's behaviour is followed: no face means nothing is accepted, so a NaN counts as a
rejection (a false reject for a same-person pair or a mated probe, a correct reject for the others) and stays
in every denominator.
"""

import numpy as np

from model_lab.thresholds import threshold_for_far


def class_weights(same: np.ndarray, balanced: bool) -> np.ndarray:
    """Per-pair weights: 1 each, or (balanced) each class summing to half, as in LFW's 300 + 300 folds."""
    if not balanced:
        return np.ones(len(same))
    n_same, n_diff = max(int(same.sum()), 1), max(int((~same).sum()), 1)
    return np.where(same, 0.5 / n_same, 0.5 / n_diff) * len(same)


def best_threshold(scores: np.ndarray, same: np.ndarray, balanced: bool = False) -> float:
    """The threshold (accept when score >= it) with the highest (class-balanced) accuracy on these pairs (NaN
    scores ignored: they are wrong whatever the threshold). Placed midway between neighbouring scores."""
    w = class_weights(same, balanced)
    ok = ~np.isnan(scores)
    s, y, w = scores[ok], same[ok], w[ok]
    if len(s) == 0:
        return 0.0
    order = np.argsort(s, kind="stable")
    s, y, w = s[order], y[order], w[order]
    # Cut i accepts s[i:]: correct = same pairs at or above the cut + different pairs below it.
    same_above = np.r_[np.cumsum((w * y)[::-1])[::-1], 0]
    diff_below = np.r_[0, np.cumsum(w * ~y)]
    correct = same_above + diff_below
    # A cut between two equal scores cannot be realised by a threshold.
    valid = np.r_[True, s[1:] > s[:-1], True]
    i = int(np.argmax(np.where(valid, correct, -1)))
    if i == 0:
        return float(s[0]) - 1e-6
    if i == len(s):
        return float(s[-1]) + 1e-6
    return float((s[i - 1] + s[i]) / 2)


def accuracy_at(scores: np.ndarray, same: np.ndarray, threshold: float, balanced: bool = False) -> float:
    """(Class-balanced) fraction of pairs decided right at `threshold`; a NaN (no face) pair is wrong."""
    if len(scores) == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        accepted = scores >= threshold
    right = ~np.isnan(scores) & (accepted == same)
    return float(np.average(right, weights=class_weights(same, balanced)))


def kfold_accuracy(scores: np.ndarray, same: np.ndarray, folds: np.ndarray,
                   balanced: bool = False) -> tuple[float, float, list[float]]:
    """LFW protocol: for each fold, the best threshold on the other folds, accuracy on this one.
    Returns (mean accuracy, std over folds, the per-fold thresholds)."""
    accuracies, thresholds = [], []
    for f in np.unique(folds):
        test = folds == f
        th = best_threshold(scores[~test], same[~test], balanced)
        thresholds.append(th)
        accuracies.append(accuracy_at(scores[test], same[test], th, balanced))
    return float(np.mean(accuracies)), float(np.std(accuracies)), thresholds


def random_folds(same: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k folds, stratified: same and different pairs are each spread evenly over the folds (seeded)."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(same), np.intp)
    for label in (True, False):
        idx = np.flatnonzero(same == label)
        folds[idx[rng.permutation(len(idx))]] = np.arange(len(idx)) % k
    return folds


def _rejecting_nan(scores: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(scores), -np.inf, scores)


def tar_at_far(scores: np.ndarray, same: np.ndarray, far: float) -> tuple[float, float]:
    """(TAR, threshold) at the smallest threshold whose FAR over the different-person pairs is <= far."""
    s = _rejecting_nan(scores)
    if not np.any(~same):
        return float("nan"), float("nan")
    threshold, _, tar = threshold_for_far(s[same], s[~same], far)
    return float(tar), float(threshold)


def fnir_at_fpir(mated_scores: np.ndarray, mated_correct: np.ndarray, nonmated_scores: np.ndarray,
                 fpir: float) -> tuple[float, float]:
    """(FNIR, threshold): the threshold lets at most `fpir` of the strangers' best scores through; a mated
    probe is a miss unless its best person is right AND scores at least the threshold (NIST FRVT 1:N)."""
    nonmated = _rejecting_nan(nonmated_scores)
    if len(nonmated) == 0 or len(mated_scores) == 0:
        return float("nan"), float("nan")
    threshold, _, _ = threshold_for_far(_rejecting_nan(mated_scores), nonmated, fpir)
    hit = mated_correct & (_rejecting_nan(mated_scores) >= threshold)
    return float(1.0 - np.mean(hit)), float(threshold)
