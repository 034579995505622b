"""The analysis commands of `shequ`: compare, report, calibrate, check, discover, optimise. Parsers only here, so
that `shequ` starts quickly; each command imports its module when it runs."""

from pathlib import Path

from sim.command import add_lang, count, examples, number, path
from sim.errors import CannotWrite, InputError
from sim.labels import MAIN

ROOT = Path(__file__).resolve().parent.parent  # the source tree (shipped calibration files)
FACTS_EXPERIMENT = "stylised-facts"  # `shequ check --facts` (and --all)
SHIPPED_CALIBRATION = ROOT / "docs" / "calibration.md"  # `shequ check --calibration` (and --all)


def add_parsers(subparsers) -> dict:
    """Add the analysis subcommands; returns {name: handler}."""
    p = subparsers.add_parser(
        "compare", help="paired comparison of variants in a batch result",
        description="Paired differences variant - baseline over the replications that share a "
        "seed, by class and sweep point (sweep points are never pooled), with 95 % intervals, "
        "effect sizes and whether the replications are enough.",
        **examples("shequ compare results/funding-reform --baseline xining-uniform --class "
                   "B,city --outcome resolved_share,resolution_rate"))
    p.add_argument("results", type=path, help="result folder of `shequ batch`")
    p.add_argument("--baseline", required=True, help="the baseline variant")
    p.add_argument("--variant", action="append", help="a variant to compare (default: all others)")
    p.add_argument("--outcome", action="append", metavar="NAME",
                   help="outcomes, comma-separated or repeated, or all (default: the KPIs and "
                   "the whole-iceberg outcomes: " + ", ".join(MAIN) + ")")
    p.add_argument("--class", dest="classes", action="append", metavar="CLASS",
                   help="classes A, B, C, D and city, comma-separated or repeated (default: all)")
    add_lang(p, "the labels")
    p.add_argument("--width", type=count, default=100,
                   help="columns the table fits (default: 100)")
    p.add_argument("--csv", type=path, help="CSV file (default: RESULTS/compare-BASELINE.csv; a "
                   "new file, or one Shequ wrote)")

    p = subparsers.add_parser(
        "report", help="HTML and Markdown report of a batch result",
        description="A report whose first page is the answer (the paired effects of each variant "
        "against the baseline, in words and by class; the budget; whether the replications are "
        "enough), then the details. A sweep's points are never pooled: its outcomes are drawn "
        "over the swept parameters.",
        **examples("shequ report results/funding-reform --baseline xining-uniform --lang zh"))
    p.add_argument("results", type=path, help="result folder of `shequ batch`")
    p.add_argument("--baseline", help="variant the others are compared with (default: the first)")
    p.add_argument("--point", type=int, metavar="P", help="report sweep point P alone, in full "
                   "(default: every point, over the swept parameters)")
    add_lang(p, "the labels")
    p.add_argument("--out", type=path, help="output folder (default: RESULTS/report; new, "
                   "empty, or a report's)")
    p = subparsers.add_parser("calibrate", help="fit behavioural parameters to Xining's published "
                              "figures (method of simulated moments)",
                              **examples("shequ calibrate --workers 2      # into output/calibration",
                                         "shequ calibrate --evaluations 8 --replications 2 --scale "
                                         "0.02 --out output/trial",
                                         "shequ calibrate --lang zh      # the report in Chinese"))
    p.add_argument("--scale", type=number, default=0.1, help="scale of the fitting runs")
    p.add_argument("--days", type=count, default=365, help="days a run")
    p.add_argument("--replications", type=count, default=3, help="replications an evaluation")
    p.add_argument("--evaluations", type=count, default=40, help="most evaluations of the search "
                   "(each one: the replications of one candidate; finite differences included)")
    p.add_argument("--warmup-years", type=int, default=None, help="warm-up budget years of every "
                   "run (default: the scenario's, docs/warmup.md; fewer only for trial fits)")
    p.add_argument("--draws", type=count, default=10, help="parameter draws for the held-out "
                   "predictions")
    p.add_argument("--targets", type=path, default=None, help="the published figures and their "
                   "roles (default: the shipped experiments/targets.csv)")
    p.add_argument("--verify-scale", type=number, default=1.0, help="scale of the verification")
    p.add_argument("--verify-replications", type=count, default=4,
                   help="verification replications")
    p.add_argument("--workers", type=count, default=2, help="worker processes")
    p.add_argument("--out", type=path, default=Path("output") / "calibration",
                   help="folder for the fitted parameters (calibrated.toml), the report "
                   "(calibration.md) and its numbers (calibration.json); default "
                   "output/calibration, new or a calibration's")
    p.add_argument("--results", type=path, default=None,
                   help="result store of the fit's runs (default: results/calibration; new or "
                   "this fit's, to go on where it stopped)")
    p.add_argument("--replace-shipped", action="store_true",
                   help="also replace the shipped scenarios/calibrated.toml (which every shipped "
                   "scenario extends) and docs/calibration.md and .json")
    add_lang(p, "the report and the summary")
    add_check_parser(subparsers)
    add_discover_parser(subparsers)
    add_optimise_parser(subparsers)
    return {"compare": run_compare, "report": run_report, "calibrate": run_calibrate,
            "check": run_check, "discover": run_discover, "optimise": run_optimise}


def add_optimise_parser(subparsers) -> None:
    from sim.batch.cli import add_executor_arguments

    p = subparsers.add_parser(
        "optimise", help="the best split of a fixed budget among the communities",
        description="Search the budget-neutral splits of the scenario's fixed total (amounts by "
        "class, or the weights of the needs-based formula) for the best value of one outcome, "
        "in rounds of candidates run with common random numbers through the batch engine "
        "(resumable, Dask-ready; Optuna's TPE sampler); then confirm the best few on fresh seeds "
        "against the scenario's own split, with paired 95 % intervals and the probability that "
        "each is really better. Optuna is an optional extra: pip install 'shequ[optimise]'.",
        **examples("shequ optimise xining-classified --objective resolved_share --workers 2",
                   "shequ optimise xining-classified --objective resolution_rate --class worst "
                   "--minimum 80000 --rounds 4"))
    p.add_argument("scenario", nargs="?", default="xining-classified",
                   help="scenario name or .toml path (default: xining-classified)")
    p.add_argument("--objective", default="resolved_share", metavar="OUTCOME",
                   help="the outcome to make best, from the summary table (default: "
                   "resolved_share)")
    p.add_argument("--class", dest="klass", default="city",
                   help="city, A, B, C, D, or worst: each replication's worst class (default: "
                   "city)")
    p.add_argument("--decide", choices=("classes", "needs"), default="classes",
                   help="what the search varies: each class's part of the total, or the "
                   "needs-based weights (default: classes)")
    p.add_argument("--total", type=count, default=None,
                   help="the fixed city total, yuan a year (default: the scenario's "
                   "funding.total, else what its scheme gives)")
    p.add_argument("--minimum", type=count, default=0,
                   help="yuan a year every community gets first (default: 0)")
    p.add_argument("--max-weight", type=number, default=4.0,
                   help="--decide needs: the largest weight of a need (default: 4)")
    p.add_argument("--rounds", type=count, default=6, help="rounds of the search (default: 6)")
    p.add_argument("--candidates", type=count, default=8,
                   help="candidates a round (default: 8)")
    p.add_argument("--replications", type=count, default=3,
                   help="replications a candidate in the search (default: 3)")
    p.add_argument("--confirm", type=count, default=3,
                   help="best candidates confirmed on fresh seeds (default: 3)")
    p.add_argument("--confirm-replications", type=count, default=20,
                   help="fresh replications of the confirmation (default: 20)")
    p.add_argument("--seed", type=count, default=20261130,
                   help="seed of the sampler and of the runs (default: 20261130)")
    p.add_argument("--scale", type=number, default=None,
                   help="scale of the runs (default: the scenario's)")
    p.add_argument("--days", type=count, default=None,
                   help="days a run (default: the scenario's)")
    add_executor_arguments(p)
    p.add_argument("--results", type=path, default=None,
                   help="result store of the runs (default: results/optimise-SCENARIO; new or "
                   "this search's, to go on)")
    add_lang(p, "the report, its figure and the summary")
    p.add_argument("--out", type=path, default=None,
                   help="folder for the report (optimise.md), optimise.csv, optimise.png, "
                   "optimise.json, best.toml and the rounds (default: output/optimise-SCENARIO)")


def run_optimise(args) -> int:
    from analysis import optimise

    return optimise.run(args)


def add_discover_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "discover", help="scenario discovery: where a policy fails (PRIM and CART)",
        description="Find the region of the swept parameters where an outcome falls below (or "
        "above) a threshold, or below another variant's in the paired runs: PRIM boxes with "
        "their coverage/density trade-off and a CART tree (EMA Workbench, an optional extra: "
        "pip install 'shequ[discover]').",
        **examples("shequ discover results/uncertain-reform --outcome resolved_share --class A "
                   "--variant xining-classified --versus xining-uniform --below 0"))
    p.add_argument("results", type=path, help="result folder of `shequ batch` (a sweep)")
    p.add_argument("--outcome", required=True, help="the outcome, e.g. resolved_share")
    p.add_argument("--class", dest="klass", default="city", help="A, B, C, D or city "
                   "(default: city)")
    p.add_argument("--variant", help="the policy variant (default: the first)")
    p.add_argument("--versus", help="compare with this variant's paired runs: the threshold is "
                   "on the difference variant - versus")
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--below", type=float, help="a case of interest is below this value, in "
                      "the unit shown (per cent or percentage points for shares)")
    side.add_argument("--above", type=float, help="... or above it")
    p.add_argument("--coverage", type=number, default=0.5, help="the reported PRIM box is the "
                   "densest with at least this coverage (default: 0.5)")
    p.add_argument("--out", type=path, help="output folder (default: RESULTS/discover; new, "
                   "empty, or a discovery's)")
    add_lang(p, "the summary, discover.md and the figure")


def run_discover(args) -> int:
    from analysis import discover

    return discover.run(args)


def add_check_parser(subparsers) -> None:
    from sim.batch.cli import add_executor_arguments

    p = subparsers.add_parser("check", help="metamorphic properties of the model, as a suite "
                              "(non-inferiority over paired replications)",
                              description="Run the validation experiment through the batch "
                              "engine (finished runs are skipped), test each metamorphic property "
                              "as non-inferiority and write the report; with --all also the "
                              "shipped calibration, the stylised facts and the full city: "
                              "docs/validation.md, the one validation report. Exit code 0 when "
                              "every asserted property (and stylised fact) holds, 1 when one "
                              "fails.",
                              **examples("shequ check --workers 2", "shequ check --all --workers 2"
                                         "      # the whole docs/validation.md"))
    p.add_argument("experiment", nargs="?", default="validation",
                   help="experiment name or .toml path (default: validation)")
    add_executor_arguments(p)
    p.add_argument("--results", type=path, metavar="DIR",
                   help="the experiment's result folder (default: results/EXPERIMENT)")
    p.add_argument("--out", type=path, metavar="FILE", default=Path("docs") / "validation.md",
                   help="the report (default: docs/validation.md; a new file, or one Shequ wrote)")
    p.add_argument("--full-city", action="store_true",
                   help="also run the baseline at 1:1 and report the scale's gaps "
                   "(\"Scale stability\")")
    p.add_argument("--facts", nargs="?", const=FACTS_EXPERIMENT, metavar="EXPERIMENT",
                   help="also run the stylised facts' experiment (default: stylised-facts) and "
                   "report each fact; one that fails fails the command")
    p.add_argument("--facts-results", type=path, metavar="DIR",
                   help="its result folder (default: results/EXPERIMENT)")
    p.add_argument("--calibration", nargs="?", type=path, metavar="FILE",
                   const=SHIPPED_CALIBRATION,
                   help="also include a calibration report of `shequ calibrate` (default: the "
                   "shipped docs/calibration.md)")
    p.add_argument("--all", action="store_true",
                   help="the whole validation report: --calibration --facts --full-city")
    add_lang(p, "the report and the summary")


def run_compare(args) -> int:
    from analysis.compare import compare, format_table, read_summary
    from sim.command import check_file, output_file

    path = args.csv or args.results / f"compare-{args.baseline}.csv"
    check_file(path, "--csv")
    table = compare(read_summary(args.results), args.baseline, args.variant,
                    args.outcome or list(MAIN), args.classes)
    try:
        with output_file(path, "--csv") as tmp:
            table.to_csv(tmp, index=False)
    except OSError as e:
        raise CannotWrite(f"--csv {path}: cannot write ({e.strerror}); expected a writable "
                          "file") from None
    print(format_table(table, args.lang, args.width))
    print(f"\n{len(table)} comparisons ({int(table['enough'].sum())} with enough replications); "
          f"all columns in {path}")
    return 0


def run_report(args) -> int:
    from analysis.report import write
    from sim.command import check_folder

    if not (args.results / "experiment.json").is_file():
        raise InputError(f"{args.results}: expected a result folder of `shequ batch` (with "
                         "experiment.json), but there is none")
    out = args.out or args.results / "report"
    check_folder(out, "report")
    try:
        page, md = write(args.results, out, args.baseline, args.lang,  # claims `out` once built
                         args.point)
    except OSError as e:
        raise CannotWrite(f"--out {out}: cannot write ({e.strerror}); expected a writable "
                          "folder") from None
    print(f"report written: {page} and {md}")
    return 0


def run_calibrate(args) -> int:
    from analysis import calibrate

    for name, lo, hi in (("scale", 1e-4, 1.0), ("verify_scale", 1e-4, 1.0)):
        if not lo <= getattr(args, name) <= hi:
            raise InputError(f"--{name.replace('_', '-')} {getattr(args, name)}: expected a "
                             f"number in [{lo:g}, {hi:g}]")
    for name in ("days", "replications", "evaluations", "verify_replications", "workers", "draws"):
        if getattr(args, name) < (2 if name.endswith("replications") else 1):
            raise InputError(f"--{name.replace('_', '-')} {getattr(args, name)}: expected a "
                             "larger whole number")
    if args.warmup_years is not None and not 0 <= args.warmup_years <= 20:
        raise InputError(f"--warmup-years {args.warmup_years}: expected a whole number in [0, 20]")
    return calibrate.run(args)


def run_check(args) -> int:
    from analysis import validation

    if args.all:  # the whole report: each part with its default
        args.facts, args.full_city = args.facts or FACTS_EXPERIMENT, True
        args.calibration = args.calibration or SHIPPED_CALIBRATION
    return validation.run(args)
