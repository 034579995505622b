"""The search layer of `shequ calibrate` and `shequ optimise`: candidates run in rounds through the
batch engine.

A search (a fit, an optimisation) proposes candidates — nested scenario overrides — a round at a
time. Each round is an experiment of the batch engine, written to the command's output folder as
`rounds/<round>.toml` (a file `shequ batch` runs as it is) and run into one result store: one
variant a candidate, every candidate with the same seeds (common random numbers, so that two
candidates differ by their settings, not by the luck of the draw). The rounds run on local worker
processes or a Dask cluster, and a search stopped half-way goes on where it stopped: proposing
is deterministic given the results, so the same command proposes the same candidates again and
the store skips the runs it already has. The round's size, not the number of workers, fixes what
is proposed next, so the result is the same for any number of workers. A candidate's variant in
the store is named by a digest of its settings and seeds (the round's file names the search's own
candidates in a comment), so that searches sharing a store reuse each other's runs of the same
candidate and never mistake another candidate's runs for theirs.

    rounds = Rounds(results, out, "optimise", "xining-classified", scale=0.01, days=365,
                    seed=1, executor=executor)
    tables = rounds.run("round-01", {"c01": {...}, "c02": {...}}, replications=3)
    tables["c01"]  # its summary rows: one per replication and class
"""

import copy
import json
from pathlib import Path

import pandas as pd

from sim.errors import InputError


class SearchError(Exception):
    """A round could not finish (failed runs): the search cannot go on."""


class Rounds:
    """Rounds of candidates in one result store (`results`), their experiment files in the
    claimed output folder `out` (an `OutputFolder`); `scenario`: a shipped name or a file;
    `fixed`: nested overrides every candidate takes; `executor`: (executor, slots, renew) of
    `sim.batch.runner.executor_for`, open for the whole search."""

    def __init__(self, results: Path, out, name: str, scenario: str, *, scale: float, days: int,
                 seed: int, executor: tuple, fixed: dict | None = None, progress: bool | None = None,
                 keep: tuple = ("summary",)):
        self.results, self.out, self.name, self.scenario = Path(results), out, name, scenario
        self.scale, self.days, self.seed, self.keep = scale, days, seed, keep
        self.fixed, self.progress = fixed or {}, progress
        executor, slots, renew = executor
        self.executor = [executor, slots, renew]
        if renew is not None:  # a broken pool renewed in one round serves the next ones
            def renewed():
                self.executor[0] = renew()
                return self.executor[0]
            self.executor[2] = renewed
        self.runs = 0  # runs made by this search (not taken from the store)
        self.seconds: dict[str, float] = {}  # run id -> its own time, from the store's manifest

    def at_scale(self, scale: float) -> "Rounds":
        """The same search's rounds at another scale (a verification), in the same store and on
        the same executor (a pool renewed by one serves the other)."""
        other = copy.copy(self)
        other.scale = scale
        return other

    def variant(self, over: dict, seeds) -> str:
        """A candidate's name in the store: a digest of everything that makes its runs, so that
        another search in the same store reuses the runs of the same candidate and never takes
        another's for its own."""
        from sim.batch.experiment import digest

        return "v" + digest({"set": over, "fixed": self.fixed, "scale": self.scale,
                             "days": self.days, "seeds": None if seeds is None else
                             [int(x) for x in seeds]})[:12]

    def text(self, label: str, candidates: dict[str, dict], seeds, replications) -> str:
        """The round as an experiment file: one variant per distinct candidate."""
        lines = [f"# {self.name}, {label}: written by `shequ {self.name}`; `shequ batch` runs it "
                 "as it is", f"name = {json.dumps(self.name)}", f"seed = {self.seed}",
                 f"days = {self.days}", f"scale = {self.scale!r}",
                 f"keep = {json.dumps(list(self.keep))}"]
        lines.append(f"seeds = {json.dumps([int(s) for s in seeds])}" if seeds is not None
                     else f"replications = {replications}")
        if self.fixed:
            lines += ["", "[set]", *assignments(self.fixed)]
        named: dict[str, tuple[list, dict]] = {}
        for name, over in candidates.items():
            named.setdefault(self.variant(over, seeds), ([], over))[0].append(name)
        for variant, (names, over) in named.items():
            lines += ["", f"# {', '.join(names)}", "[[variants]]", f"name = {json.dumps(variant)}",
                      f"scenario = {json.dumps(self.scenario)}"]
            if over:
                lines += ["[variants.set]", *assignments(over)]
        return "\n".join(lines) + "\n"

    def run(self, label: str, candidates: dict[str, dict], *, replications: int | None = None,
            seeds: list[int] | None = None) -> dict[str, pd.DataFrame]:
        """Run a round (its runs not yet in the store); each candidate's summary rows."""
        from sim.batch.experiment import load
        from sim.batch.runner import BatchError, run_batch

        path = self.out.write_text(f"rounds/{label}.toml",
                                   self.text(label, candidates, seeds, replications))
        experiment = load(path)
        try:
            report = run_batch(experiment, self.results, progress=self.progress,
                               executor=tuple(self.executor))
        except BatchError as e:
            raise SearchError(str(e)) from None
        except InputError as e:  # the store names its folder --out
            raise type(e)(str(e).replace(f"--out {self.results}", f"--results {self.results}")
                          .replace("use --out for", "use --results for")) from None
        self.runs += report.ran
        if report.failed:
            run, error = report.failed[0]
            raise SearchError(f"{len(report.failed)} of {report.ran} runs of {label} failed, "
                              f"e.g. {run}: {error}; the tracebacks are in {self.results}/manifest/")
        for task in experiment.tasks():  # what each run cost when it was made, resumed or not
            row = pd.read_parquet(self.results / "manifest" / f"{task.run_id}.parquet",
                                  columns=["seconds"])
            self.seconds[task.run_id] = float(row["seconds"].iloc[0])
        tables = {c.variant: self.summary(experiment, c.key) for c in experiment.configs}
        return {name: tables[self.variant(over, seeds)] for name, over in candidates.items()}

    def summary(self, experiment, key: str) -> pd.DataFrame:
        from sim.batch.experiment import run_id

        return pd.concat([pd.read_parquet(self.results / "summary" / f"{run_id(key, r)}.parquet")
                          for r in range(experiment.replications)], ignore_index=True)


def assignments(over: dict, prefix: str = "") -> list[str]:
    """Nested overrides as TOML lines `section.key = value` (tables by their entries)."""
    from sim.scenario import toml_value

    lines = []
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += assignments(value, dotted + ".")
        else:
            lines.append(f"{dotted} = {toml_value(value)}")
    return lines


def scenario_reference(name_or_path: str) -> str:
    """How a round's experiment file names the scenario: a shipped name as it is, a file by its
    absolute path (the file lives elsewhere than the round's)."""
    from sim.scenario import SCENARIO_DIR, find_toml

    path = find_toml(name_or_path, SCENARIO_DIR, "scenario")
    try:
        if path.resolve().parent == Path(SCENARIO_DIR).resolve() and path.stem == name_or_path:
            return name_or_path
    except OSError:
        pass
    return str(path.resolve())
