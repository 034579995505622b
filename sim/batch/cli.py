"""`shequ batch EXPERIMENT`: run an experiment into its result folder, resumably.

`add_parser(subparsers)` adds the subcommand to `shequ`; `run(args)` runs it (bad input raises
`InputError`, which `shequ` prints as one line, exit code 2). Exit codes: 0 every run finished,
1 some runs failed (recorded in the manifest with their errors), 2 bad input, 3 the results cannot
be written (disk full, a read-only folder: `CannotWrite`), 130 interrupted by Ctrl-C, 143 stopped
by SIGTERM. After 3, 130 and 143 the finished runs are kept: the same command goes on from there.
"""

import argparse
import functools
import sys
from pathlib import Path

from sim.command import add_lang, count, path
from sim.labels import phrase

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
    add_lang(parser, "the plan and result lines")


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
        print(plan(experiment, out, store, args.lang))
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
    print(result_line(report, experiment, getattr(args, "lang", "en")))
    for run_id, error in report.failed[:10]:
        print(f"failed: {run_id}: {error}", file=sys.stderr)
    if len(report.failed) > 10:
        print(f"... and {len(report.failed) - 10} more failed", file=sys.stderr)
    if report.failed:
        print(f"{len(report.failed)} of {report.ran} runs failed: errors and tracebacks are in "
              f"{report.folder}/manifest/ (status = 'failed'); {need}", file=sys.stderr)
        return 1
    return 0


# What a batch prints: (en, zh), `{placeholders}` filled in.
WORDS = {
    "cluster": ("cluster {address} ({slots} threads)", "集群 {address}（{slots} 个线程）"),
    "here": ("in this process", "在本进程中"),
    "workers": ("{slots} worker processes", "{slots} 个工作进程"),
    "finished before": ("; {n} already finished", "；已完成 {n} 次"),
    "points": (" x {n} {design} points", " × {n} 个 {design} 点"),
    "scale": (" at scale {scale}", "，规模 {scale}"),
    "days": (" for {days} days", "，{days} 天"),
    "plan": ("{name}: {variants} variant{s}{design} x {replications} replications = {runs} "
             "runs{scale}{days}, seed {seed}",
             "{name}：{variants} 个变体{design} × {replications} 次重复 = {runs} 次运行{scale}{days}，"
             "种子 {seed}"),
    "variants": ("variants: {names}", "变体：{names}"),
    "sweep": ("sweep: {keys} ({design})", "扫描：{keys}（{design}）"),
    "tables": ("tables kept: {tables}", "保存的表：{tables}"),
    "folder": ("result folder: {out}/ ({finished} of {runs} runs finished)",
               "结果文件夹：{out}/（{runs} 次运行中已完成 {finished} 次）"),
    "no seed": ("note: the experiment has no seed; add `seed = {entropy}` to repeat it elsewhere",
                "注意：实验没有种子；加上 `seed = {entropy}` 可在别处重复"),
    "nothing": ("nothing to run: all {total} runs were already finished; results in {folder}/",
                "无需运行：全部 {total} 次运行已完成；结果在 {folder}/"),
    "rate": (", {rate} runs/min", "，每分钟 {rate} 次"),
    "done before": (" ({n} were already done)", "（另有 {n} 次此前已完成）"),
    "result": ("{ran} runs in {time}{rate}: {ok} ok, {failed} failed{skipped}; results in "
               "{folder}/",
               "{ran} 次运行，用时 {time}{rate}：成功 {ok} 次，失败 {failed} 次{skipped}；结果在 {folder}/"),
    "entropy": ("\nthe experiment has no seed: it ran with entropy {entropy} (recorded in "
                "experiment.json); add `seed = {entropy}` to repeat it elsewhere",
                "\n实验没有种子：以熵 {entropy} 运行（记录在 experiment.json 中）；加上 "
                "`seed = {entropy}` 可在别处重复"),
}


say = functools.partial(phrase, WORDS)


def announcement(experiment, report, args) -> str:
    """The line a batch prints when it starts: the plan, where it runs, what was done before."""
    lang = getattr(args, "lang", "en")
    where = (say("cluster", lang, address=args.cluster, slots=report.slots) if args.cluster else
             say("here", lang) if args.workers == 0 else say("workers", lang, slots=report.slots))
    done = say("finished before", lang, n=f"{report.skipped:,}") if report.skipped else ""
    sep = "；" if lang == "zh" else "; "
    return f"{plan_line(experiment, lang)}{sep}{where}{done}"


def plan_line(experiment, lang: str = "en") -> str:
    variants = len(experiment.variants)
    points = len(experiment.configs) // max(variants, 1)
    design = (say("points", lang, n=points, design=experiment.sweep.design)
              if experiment.sweep else "")
    scale = say("scale", lang, scale=f"{experiment.scale:g}") if experiment.scale is not None else ""
    days = say("days", lang, days=experiment.days) if experiment.days is not None else ""
    return say("plan", lang, name=experiment.name, variants=variants, s="s" * (variants != 1),
               design=design, replications=experiment.replications,
               runs=f"{experiment.n_runs:,}", scale=scale, days=days, seed=experiment.entropy)


def plan(experiment, out, store, lang: str = "en") -> str:
    done = store.whole_runs() if store.exists() else set()
    runs = [t.run_id for t in experiment.tasks()]
    finished = sum(r in done for r in runs)
    lines = [plan_line(experiment, lang),
             say("variants", lang, names=", ".join(v for v, _ in experiment.variants))]
    if experiment.sweep:
        lines.append(say("sweep", lang, keys=", ".join(experiment.keys),
                         design=experiment.sweep.design))
    lines.append(say("tables", lang, tables=", ".join(experiment.keep)))
    lines.append(say("folder", lang, out=out, finished=f"{finished:,}", runs=f"{len(runs):,}"))
    if experiment.seed is None:
        lines.append(say("no seed", lang, entropy=experiment.entropy))
    return "\n".join(lines)


def result_line(report, experiment, lang: str = "en") -> str:
    if not report.ran:
        return say("nothing", lang, total=f"{report.total:,}", folder=report.folder)
    minutes = report.seconds / 60
    rate = (say("rate", lang, rate=f"{report.ran / minutes:.1f}")
            if report.ran and minutes > 0 else "")
    skipped = say("done before", lang, n=f"{report.skipped:,}") if report.skipped else ""
    text = say("result", lang, ran=f"{report.ran:,}", time=format_seconds(report.seconds, lang),
               rate=rate, ok=f"{report.ran - len(report.failed):,}",
               failed=f"{len(report.failed):,}", skipped=skipped, folder=report.folder)
    if experiment.seed is None:
        text += say("entropy", lang, entropy=report.entropy)
    return text


def format_seconds(seconds: float, lang: str = "en") -> str:
    s, m, h = ("s", "min", "h") if lang == "en" else ("秒", "分", "小时")
    if seconds < 60:
        return f"{seconds:.1f} {s}"
    minutes, secs = divmod(round(seconds), 60)
    return (f"{minutes} {m} {secs:02d} {s}" if minutes < 60
            else f"{minutes // 60} {h} {minutes % 60:02d} {m}")


def main(argv: list[str] | None = None) -> int:
    """`python -m sim.batch ...`, with `shequ`'s one-line errors."""
    from sim.command import Parser, one_line_errors

    parser = Parser(prog="shequ batch", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return one_line_errors(lambda: run(args))

