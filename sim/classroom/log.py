"""The classroom's log (课堂记录), JSON lines: what rebuilds the session exactly.

    line 1   {"shequ": "classroom", "version": …, "spec": {scenario, seed, scale, days,
              overrides}, "period": "week", "period_days": 7, "seats": [{seat, community,
              class}, …]}
    then     {"day": D, "period_day": P, "seat": S, "community": C, "choice": {…}}
             (D: the first day the choice acts on, counted from the warm-up's start as the model's
             steps are; P: the same day in the reported period, 0 its first; `choice`: the fields
             that differ from the defaults)
    last     {"end": D}  (the class ended after D days; absent if the session stopped unended)

`spec` holds every parameter of the run (overrides of the whole scenario), so the replay does not
depend on the shipped scenario files staying as they were. The log is a new file, written line by
line as the class goes on (a crash keeps what was written); no existing file is ever overwritten.
"""

import json
from pathlib import Path

from sim.choices import Choice
from sim.command import record_file, writable_parent
from sim.errors import InputError

KIND = "classroom"


class ClassLog:
    """The log file of a running class, opened as a new file (never over an existing one)."""

    def __init__(self, path: Path | str, flag: str = "--log"):
        self.path = Path(path)
        check_new(self.path, flag)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.file = open(self.path, "x", encoding="utf-8")  # noqa: SIM115 — kept open
        except FileExistsError:
            raise InputError(f"{flag} {self.path}: expected a new file, but it exists; give "
                             "another name or move it away") from None
        self.closed = False

    def write(self, record: dict) -> None:
        self.file.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self.file.flush()

    def close(self) -> None:
        """Close the file and note in its folder that Shequ wrote it."""
        if not self.closed:
            self.file.close()
            self.closed = True
            record_file(self.path)


def check_new(path: Path, flag: str) -> None:
    """The log must be a new file in a folder we may write in."""
    if str(path).strip() == "":
        raise InputError(f"{flag}: expected a file name, got an empty one")
    if path.exists():
        raise InputError(f"{flag} {path}: expected a new file, but it exists (an earlier "
                         "class's log?); give another name or move it away")
    writable_parent(path, flag)


def read(path: Path | str) -> tuple[dict, list[tuple[int, int, Choice]], int | None]:
    """The log's header, its choices as (day, community, Choice), and the day the class ended
    (None: not ended). Every line is checked: a bad one is one InputError naming the file, the
    line and what was expected."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the classroom log ({e}); expected a file written "
                         "by shequ classroom") from None
    records = [parse(line, path, n) for n, line in enumerate(lines, 1) if line.strip()]
    if not records or records[0].get("shequ") != KIND or not isinstance(records[0].get("spec"),
                                                                          dict):
        raise InputError(f"{path} line 1: expected a classroom log's header "
                         "({\"shequ\": \"classroom\", \"spec\": …})")
    header, choices, end = records[0], [], None
    for n, record in enumerate(records[1:], 2):
        if end is not None:
            raise InputError(f"{path} line {n}: expected nothing after the class's end line")
        if set(record) == {"end"}:
            end = whole(record["end"], path, n, "end")
            continue
        day = whole(record.get("day"), path, n, "day")
        community = whole(record.get("community"), path, n, "community")
        if choices and day < choices[-1][0]:
            raise InputError(f"{path} line {n}: key \"day\": expected days in order, got {day} "
                             f"after {choices[-1][0]}")
        choices.append((day, community, Choice.from_dict(record.get("choice"),
                                                         f"{path} line {n}")))
    return header, choices, end


def parse(line: str, path: Path, n: int) -> dict:
    try:
        record = json.loads(line)
    except ValueError:
        raise InputError(f"{path} line {n}: expected one JSON object a line") from None
    if not isinstance(record, dict):
        raise InputError(f"{path} line {n}: expected one JSON object a line")
    return record


def whole(value, path: Path, n: int, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{path} line {n}: key \"{key}\": expected a whole number >= 0, got "
                         f"{value!r}")
    return value
