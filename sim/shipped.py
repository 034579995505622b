"""Where the shipped scenario and experiment files are.

There is one copy of each, at the top of the source tree (`scenarios/`, `experiments/`, as the
layout fixes it). An installed wheel carries the same files as package data inside `sim`
(`sim/_shipped/scenarios`, `sim/_shipped/experiments`; pyproject.toml maps them there), so that
`shequ run` and `shequ batch funding-reform` work outside the source tree too.
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def folder(name: str) -> Path:
    """The shipped folder `name` ("scenarios" or "experiments"): the installed copy if there is
    one, else the source tree's."""
    installed = PACKAGE / "_shipped" / name
    return installed if installed.is_dir() else PACKAGE.parent / name
