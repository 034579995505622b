"""`shequ batch EXPERIMENT`: run an experiment into its result folder, resumably.

`add_parser(subparsers)` adds the subcommand to `shequ`; `run(args)` runs it (bad input raises
`InputError`, which `shequ` prints as one line, exit code 2). Exit codes: 0 every run finished,
1 some runs failed (recorded in the manifest with their errors), 2 bad input, 3 the results cannot
be written (disk full, a read-only folder: `CannotWrite`), 130 interrupted by Ctrl-C, 143 stopped
by SIGTERM. After 3, 130 and 143 the finished runs are kept: the same command goes on from there.
"""

import argparse
import sys
from pathlib import Path

from sim.command import count, path

HELP = "run an experiment (scenarios x sweeps x replications) into a result folder"
DESCRIPTION = """\
Run every run of an experiment file (experiments/*.toml) and write each one, as it ends, to
the result folder (default results/EXPERIMENT/). Running the same command again, or with
--resume, skips the runs already finished and tries again those that failed."""


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """Where runs go: local worker processes or a Dask scheduler (batch, sensitivity)."""
    parser.add_argument("--workers", type=count, metavar="N",
                        help="local worker processes (default: one per core; 0 = run in this "
                             "process)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="run on an existing Dask distributed scheduler, e.g. "
                             "tcp://10.0.0.5:8786, instead of local processes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def check_executor(args) -> None:
    from sim.errors import InputError

    if args.cluster and args.workers is not None:
        raise InputError(f"--workers {args.workers}: expected either --workers (local processes) "
                         f"or --cluster (a Dask scheduler's workers), not both")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", help="experiment name (from experiments/) or .toml path")
    add_executor_arguments(parser)
    parser.add_argument("--out", type=path, metavar="DIR",
                        help="result folder (default: results/EXPERIMENT)")
    parser.add_argument("--resume", action="store_true",
                        help="go on with a batch that stopped (the folder must exist); running "
                             "the same command again does the same")
    parser.add_argument("--window", type=count, metavar="K",
                        help="runs in flight at most (default: twice the workers)")
    parser.add_argument("--check", action="store_true",
                        help="validate the experiment and show what would run; run nothing")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `batch` to `shequ`'s subcommands."""
    from sim.command import examples

    parser = subparsers.add_parser("batch", help=HELP, description=DESCRIPTION, **examples(
        "shequ batch funding-reform --workers 2        # into results/funding-reform (resumes)",
        "shequ batch my-experiment.toml --check        # validate it and show what would run",
        "shequ batch funding-reform --cluster tcp://scheduler:8786"))
    add_arguments(parser)
    return parser


def run(args) -> int:
    from sim.batch.experiment import load, safe_name
    from sim.batch.runner import prepare
    from sim.command import check_results
    from sim.errors import InputError

    check_executor(args)
    if args.window == 0:
        raise InputError("--window 0: expected at least 1 run in flight")
    experiment = load(args.experiment)
    out = args.out or Path("results") / safe_name(experiment.name)
    check_results(out)
    store = prepare(experiment, out)  # validates every config; nothing written yet
    if args.check:
        print(plan(experiment, out, store))
        return 0
    return run_runs(experiment, out, args, window=args.window, resume=args.resume)


def run_runs(experiment, folder: Path, args, *, flag: str = "--out", window: int | None = None,
             resume: bool = False, need: str = "the same command tries them again") -> int:
    """Run an experiment's unfinished runs into its result folder, as `shequ batch` does — for
    it and for the commands that analyse a batch (sensitivity, check): the plan, the progress, the
    result line. Returns 0 when every run is done, 1 when some failed (`need` says what to do),
    130 / 143 when Ctrl-C / SIGTERM stopped it (the finished runs are kept). `flag` names the
    folder's option in messages."""
    from sim.batch.runner import BatchError, run_batch
    from sim.command import INTERRUPTED, TERMINATED
    from sim.errors import InputError, Terminated

    try:
        report = run_batch(experiment, folder, workers=args.workers, cluster=args.cluster,
                           window=window, progress=False if args.no_progress else None,
                           resume=resume,
                           announce=lambda r: print(announcement(experiment, r, args), flush=True))
    except InputError as e:  # the store names its folder `--out`; the same class keeps exit 3
        raise type(e)(str(e).replace(f"--out {folder}", f"{flag} {folder}")) from None
    except BatchError as e:
        print(f"shequ: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated)
        print(f"\ninterrupted: the finished runs are kept in {folder}/; run the same command "
              "again to go on", file=sys.stderr)
        return TERMINATED if isinstance(e, Terminated) else INTERRUPTED
    print(result_line(report, experiment))
    for run_id, error in report.failed[:10]:
        print(f"failed: {run_id}: {error}", file=sys.stderr)
    if len(report.failed) > 10:
        print(f"... and {len(report.failed) - 10} more failed", file=sys.stderr)
    if report.failed:
        print(f"{len(report.failed)} of {report.ran} runs failed: errors and tracebacks are in "
              f"{report.folder}/manifest/ (status = 'failed'); {need}", file=sys.stderr)
        return 1
    return 0


def announcement(experiment, report, args) -> str:
    """The line a batch prints when it starts: the plan, where it runs, what was done before."""
    where = (f"cluster {args.cluster} ({report.slots} threads)" if args.cluster else
             "in this process" if args.workers == 0 else f"{report.slots} worker processes")
    done = f"; {report.skipped:,} already finished" if report.skipped else ""
    return f"{plan_line(experiment)}; {where}{done}"


def plan_line(experiment) -> str:
    variants = len(experiment.variants)
    points = len(experiment.configs) // max(variants, 1)
    design = f" x {points} {experiment.sweep.design} points" if experiment.sweep else ""
    scale = f" at scale {experiment.scale:g}" if experiment.scale is not None else ""
    days = f" for {experiment.days} days" if experiment.days is not None else ""
    return (f"{experiment.name}: {variants} variant{'s' * (variants != 1)}{design} x "
            f"{experiment.replications} replications = {experiment.n_runs:,} runs{scale}{days}, "
            f"seed {experiment.entropy}")


def plan(experiment, out, store) -> str:
    done = store.whole_runs() if store.exists() else set()
    runs = [t.run_id for t in experiment.tasks()]
    finished = sum(r in done for r in runs)
    lines = [plan_line(experiment), f"variants: {', '.join(v for v, _ in experiment.variants)}"]
    if experiment.sweep:
        lines.append(f"sweep: {', '.join(experiment.keys)} ({experiment.sweep.design})")
    lines.append(f"tables kept: {', '.join(experiment.keep)}")
    lines.append(f"result folder: {out}/ ({finished:,} of {len(runs):,} runs finished)")
    if experiment.seed is None:
        lines.append(f"note: the experiment has no seed; add `seed = {experiment.entropy}` to "
                     "repeat it elsewhere")
    return "\n".join(lines)


def result_line(report, experiment) -> str:
    if not report.ran:
        return (f"nothing to run: all {report.total:,} runs were already finished; results in "
                f"{report.folder}/")
    minutes = report.seconds / 60
    rate = f", {report.ran / minutes:.1f} runs/min" if report.ran and minutes > 0 else ""
    skipped = f" ({report.skipped:,} were already done)" if report.skipped else ""
    text = (f"{report.ran:,} runs in {format_seconds(report.seconds)}{rate}: "
            f"{report.ran - len(report.failed):,} ok, {len(report.failed):,} failed{skipped}; "
            f"results in {report.folder}/")
    if experiment.seed is None:
        text += (f"\nthe experiment has no seed: it ran with entropy {report.entropy} (recorded "
                 f"in experiment.json); add `seed = {report.entropy}` to repeat it elsewhere")
    return text


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def main(argv: list[str] | None = None) -> int:
    """`python -m sim.batch ...`, with `shequ`'s one-line errors."""
    from sim.command import Parser, one_line_errors

    parser = Parser(prog="shequ batch", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return one_line_errors(lambda: run(args))

