"""The analysis commands of `shequ`: compare, report. Parsers only here, so that `shequ` starts
quickly; each command imports its module when it runs."""

from pathlib import Path

from sim.errors import InputError


def add_parsers(subparsers) -> dict:
    """Add the analysis subcommands; returns {name: handler}."""
    p = subparsers.add_parser("compare", help="paired comparison of variants in a batch result")
    p.add_argument("results", type=Path, help="result folder of `shequ batch`")
    p.add_argument("--baseline", required=True, help="the baseline variant")
    p.add_argument("--variant", action="append", help="a variant to compare (default: all others)")
    p.add_argument("--csv", type=Path, help="CSV file (default: RESULTS/compare-BASELINE.csv)")

    p = subparsers.add_parser("report", help="HTML and Markdown report of a batch result")
    p.add_argument("results", type=Path, help="result folder of `shequ batch`")
    p.add_argument("--baseline", help="variant the others are compared with (default: the first)")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="label language")
    p.add_argument("--out", type=Path, help="output folder (default: RESULTS/report)")
    return {"compare": run_compare, "report": run_report}


def run_compare(args) -> int:
    from analysis.compare import compare, format_table, read_summary

    table = compare(read_summary(args.results), args.baseline, args.variant)
    path = args.csv or args.results / f"compare-{args.baseline}.csv"
    try:
        table.to_csv(path, index=False)
    except OSError as e:
        raise InputError(f"--csv {path}: cannot write ({e.strerror}); expected a writable file")
    print(format_table(table))
    print(f"\n{len(table)} comparisons ({int(table['enough'].sum())} with enough replications); "
          f"written to {path}")
    return 0


def run_report(args) -> int:
    from analysis.report import write

    out = args.out or args.results / "report"
    try:
        page, md = write(args.results, out, args.baseline, args.lang)
    except OSError as e:
        raise InputError(f"--out {out}: cannot write ({e.strerror}); expected a writable folder")
    print(f"report written: {page} and {md}")
    return 0
