"""Serve-the-people special funds (服务群众专项经费): how a city divides them among communities.

Schemes: `uniform` and `by_class` are amounts, which must add up to a declared total exactly;
`per_capita` and `needs_based` are shares, which divide a declared total (largest remainder, whole
yuan). The reform re-divided the same 35.6 million yuan (seed 002).
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
    elif scheme == "per_capita":
        weights = communities["population"].to_numpy(float)
        if not total:
            return np.rint(weights * funding["per_capita"]).astype(np.int64)
        return divide(total, weights)
    else:
        if not total:
            raise InputError(f"{origin}: key \"funding.total\": expected a positive total for "
                             "'needs_based' funding, which divides a fixed total, got 0")
        return divide(total, need_weights(communities, funding["need_weights"]))
    if total and amounts.sum() != total:
        detail = ", ".join(f"{c}: {n} x {int(amounts[classes == c][0]):,}"
                           for c, n in zip(*np.unique(classes, return_counts=True)))
        raise InputError(f"{origin}: key \"funding.total\": expected the '{scheme}' amounts to add "
                         f"up to {total:,} yuan, but they add up to {int(amounts.sum()):,} "
                         f"({detail})")
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
