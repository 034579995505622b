"""Serve-the-people special funds (服务群众专项经费): how a city divides them among communities.

Schemes: `uniform` and `by_class` are amounts, which must add up to a declared total exactly;
`class_shares`, `per_capita` and `needs_based` are shares, which divide a declared total (largest
remainder, whole yuan), after a `minimum` every community gets first. `class_shares` divides the
total among the classes by their weights, then each class's part evenly among its communities:
the form in which `shequ optimise` searches the budget-neutral splits. The reform re-divided the
same 35.6 million yuan (seed 002).
"""

import numpy as np
import pandas as pd

from sim.errors import InputError


def allocate(funding: dict, communities: pd.DataFrame, classes: np.ndarray, origin: str) -> np.ndarray:
    """Annual fund of each community, whole yuan. `origin` names the scenario in errors."""
    scheme, total = funding["scheme"], int(funding["total"])
    if scheme == "uniform":
        amounts = np.full(len(communities), int(funding["uniform"]), dtype=np.int64)
    elif scheme == "by_class":
        if np.any(classes == "none"):
            raise InputError(f"{origin}: key \"funding.scheme\": expected a classification for "
                             "'by_class' funding, but classification.scheme is 'none'")
        by_class = funding["by_class"]
        amounts = np.array([int(by_class[c]) for c in classes], dtype=np.int64)
    elif scheme == "per_capita" and not total:
        weights = communities["population"].to_numpy(float)
        return np.rint(weights * funding["per_capita"]).astype(np.int64)
    else:
        if not total:
            raise InputError(f"{origin}: key \"funding.total\": expected a positive total for "
                             f"'{scheme}' funding, which divides a fixed total, got 0")
        floor = int(funding.get("minimum", 0))
        rest = total - floor * len(communities)
        if rest < 0:
            raise InputError(f"{origin}: key \"funding.minimum\": expected at most "
                             f"{total // max(len(communities), 1):,} yuan (the total {total:,} over "
                             f"{len(communities)} communities), got {floor:,}")
        return floor + shares(scheme, funding, communities, classes, rest, origin)
    if total and amounts.sum() != total:
        detail = ", ".join(f"{c}: {n} x {int(amounts[classes == c][0]):,}"
                           for c, n in zip(*np.unique(classes, return_counts=True)))
        raise InputError(f"{origin}: key \"funding.total\": expected the '{scheme}' amounts to add "
                         f"up to {total:,} yuan, but they add up to {int(amounts.sum()):,} "
                         f"({detail})")
    return amounts


def shares(scheme: str, funding: dict, communities: pd.DataFrame, classes: np.ndarray, total: int,
           origin: str) -> np.ndarray:
    """A whole-yuan total divided by a share scheme: sums exactly."""
    if scheme == "per_capita":
        return divide(total, communities["population"].to_numpy(float))
    if scheme == "needs_based":
        return divide(total, need_weights(communities, funding["need_weights"]))
    if np.any(classes == "none"):
        raise InputError(f"{origin}: key \"funding.scheme\": expected a classification for "
                         "'class_shares' funding, but classification.scheme is 'none'")
    present = sorted(set(classes))
    weights = np.array([float(funding["class_shares"][c]) for c in present])
    if weights.sum() <= 0:
        raise InputError(f"{origin}: key \"funding.class_shares\": expected a positive weight "
                         f"for at least one of the classes present ({', '.join(present)})")
    amounts = np.zeros(len(classes), dtype=np.int64)
    for c, part in zip(present, divide(total, weights)):
        members = np.flatnonzero(classes == c)
        amounts[members] = divide(int(part), np.ones(len(members)))
    return amounts


def need_weights(communities: pd.DataFrame, weights: dict) -> np.ndarray:
    """Residents, plus weighted residents with each need: old compounds, migrants, elderly, poor
    infrastructure."""
    pop = communities["population"].to_numpy(float)
    return (pop
            + weights["old_residents"] * communities["old_compound_residents"].to_numpy(float)
            + weights["migrants"] * pop * communities["migrant_share"].to_numpy(float)
            + weights["elderly"] * pop * communities["elderly_share"].to_numpy(float)
            + weights["poor_infrastructure"] * pop * (1 - communities["infrastructure"].to_numpy(float)))


def divide(total: int, weights: np.ndarray) -> np.ndarray:
    """Split a whole-yuan total in proportion to weights, by largest remainder: sums exactly."""
    exact = total * weights / weights.sum()
    amounts = np.floor(exact).astype(np.int64)
    short = total - amounts.sum()
    amounts[np.argsort(-(exact - amounts), kind="stable")[:short]] += 1
    return amounts
