"""The published figures the model is fitted to and checked against: `experiments/targets.csv`.

Every figure of SEED-FACTS §6 is a row, with its source, its uncertainty and its role:

- `fitted`: a calibration target (`shequ calibrate`), weighted by its uncertainty;
- `held_out`: not fitted, not used as a default and not implied by fitted figures, so the
  calibrated model's prediction of it is a test (validation);
- `default`: sets a parameter's default, so it can be neither fitted nor held out;
- `implied`: follows arithmetically from other figures (or from a period the seeds do not give);
- `outside`: about something the model does not represent;
- `band`: a plausibility band from another city (SEED-FACTS §8), never a target.

`measure` names the simulated quantity a fitted, held-out or band figure is compared with (see
MEASURES); held-out measures ending in `_dispute` and `_other_max` are one-sided (see the file's
notes).
"""

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError
from sim.parameters import CATEGORIES
from sim.shipped import folder

ROLES = ("fitted", "held_out", "default", "implied", "outside", "band")
COLUMNS = ("name", "value", "uncertainty", "unit", "role", "measure", "period", "source", "note")
# Optional, after the others: the source and the note in Chinese, for `shequ calibrate --lang zh`
# (the English ones are shown where they are empty).
CHINESE = ("source_zh", "note_zh")
# What can be measured in a run (analysis/calibrate.py, `moments`).
MEASURES = ("response_rate", "resolution_rate", "satisfaction_rate", "hotline_contacts",
            "hotline_direct_share", "hotline_calls_other_max",
            *(f"hotline_calls_{c}" for c in CATEGORIES))
# One-sided held-out checks: the simulated value should be at least (+1) or at most (-1) the
# published one; two-sided otherwise.
SIDES = {"hotline_calls_dispute": +1, "hotline_calls_other_max": -1}
# The categories the "other topics" check covers: those not named among the day's top topics.
OTHER_TOPICS = tuple(c for c in CATEGORIES if c not in ("property", "dispute"))


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    uncertainty: float  # one standard deviation, in the figure's unit (NaN when not used)
    unit: str
    role: str
    measure: str
    period: str
    source: str
    note: str
    source_zh: str = ""
    note_zh: str = ""

    @property
    def side(self) -> int:
        return SIDES.get(self.measure, 0)

    def said(self, column: str, lang: str) -> str:
        """The source or the note in `lang`: the Chinese column when it has a text."""
        return (lang == "zh" and getattr(self, f"{column}_zh")) or getattr(self, column)


def default_path() -> Path:
    return folder("experiments") / "targets.csv"


def load(path: Path | None = None) -> dict[str, Target]:
    """The targets file, checked: a clear message naming the file, row and column otherwise."""
    path = Path(path) if path is not None else default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the targets file ({e})") from None
    rows = list(csv.reader(text.splitlines()))
    header = tuple(c.strip() for c in rows[0]) if rows else ()
    if header not in (COLUMNS, COLUMNS + CHINESE):
        raise InputError(f"{path}: expected the header {','.join(COLUMNS)} (optionally followed "
                         f"by {','.join(CHINESE)})")
    targets: dict[str, Target] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        t = parse_row(path, number, row, header)
        if t.name in targets:
            raise InputError(f"{path}, row {number}: the name {t.name!r} appears twice")
        targets[t.name] = t
    if not any(t.role == "fitted" for t in targets.values()):
        raise InputError(f"{path}: expected at least one row with role 'fitted'")
    return targets


def parse_row(path: Path, number: int, row: list[str], header: tuple = COLUMNS) -> Target:
    where = f"{path}, row {number}"
    if len(row) != len(header):
        raise InputError(f"{where}: expected {len(header)} columns ({', '.join(header)}), "
                         f"found {len(row)}")
    cell = dict.fromkeys(CHINESE, "") | dict(zip(header, (c.strip() for c in row)))
    if not cell["name"]:
        raise InputError(f"{where}: expected a name")
    where = f"{where} ({cell['name']})"
    if cell["role"] not in ROLES:
        raise InputError(f"{where}: role {cell['role']!r}, expected one of {', '.join(ROLES)}")
    value = number_in(cell["value"], where, "value")
    needs = cell["role"] in ("fitted", "held_out")
    if cell["uncertainty"] or needs:
        uncertainty = number_in(cell["uncertainty"], where, "uncertainty")
        if not uncertainty > 0:
            raise InputError(f"{where}: uncertainty {uncertainty:g}, expected a number > 0")
    else:
        uncertainty = math.nan
    if cell["role"] in ("fitted", "held_out", "band") and cell["measure"] not in MEASURES:
        raise InputError(f"{where}: measure {cell['measure']!r}, expected one of "
                         f"{', '.join(MEASURES)}")
    if not cell["source"]:
        raise InputError(f"{where}: expected a source")
    return Target(cell["name"], value, uncertainty, cell["unit"], cell["role"], cell["measure"],
                  cell["period"], cell["source"], cell["note"], cell["source_zh"], cell["note_zh"])


def number_in(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {column} {text!r}, expected a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {column} {text!r}, expected a finite number")
    return value


def with_role(targets: dict[str, Target], role: str) -> dict[str, Target]:
    return {k: t for k, t in targets.items() if t.role == role}
