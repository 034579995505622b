"""The documents stay in step with the code: every output column is explained in the README, and
docs/ODD.md carries the parameter registry's current table."""

from pathlib import Path

import pytest

from sim import outputs
from sim.model import GovernanceModel
from sim.parameters import markdown_table

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model():
    return GovernanceModel(scenario="xining-classified", scale=0.002, days=10, rng=1).run()


def documented(name: str, readme: str) -> bool:
    """A column is documented when its name, or its flow without the new_/cum_ prefix, or its
    stem before a _median/_p90/_grassroots-like suffix shown as `stem` / `_suffix`, is in
    backticks."""
    stem = name.removeprefix("new_").removeprefix("cum_")
    if f"`{name}`" in readme or f"`{stem}`" in readme:
        return True
    cuts = [i for i, ch in enumerate(name) if ch == "_"]
    return any(f"`{name[:i + 1]}" in readme and f"`{name[i:]}`" in readme for i in cuts) or any(
        f"`{stem[:i + 1]}" in readme and f"`{stem[i:]}`" in readme
        for i in (j for j, ch in enumerate(stem) if ch == "_"))


@pytest.mark.parametrize("table", ["daily", "summary", "communities"])
def test_readme_documents_every_column(model, table):
    readme = (ROOT / "README.md").read_text()
    frame = getattr(outputs, table)(model)
    missing = [c for c in frame.columns if not documented(c, readme)]
    assert not missing, f"README does not explain {table} columns {missing}"


def test_odd_has_the_current_parameter_table():
    assert markdown_table() in (ROOT / "docs" / "ODD.md").read_text(), (
        "docs/ODD.md is out of step with sim/parameters.py: paste `python -m sim.parameters`")
