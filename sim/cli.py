"""The `shequ` command: run a scenario, validate a scenario file, list the shipped ones; the other
subcommands come from their own modules (batch, analysis, viz, sensitivity), which, like this one,
take their argument helpers and the output guard from `sim.command`."""

import functools
import time
from pathlib import Path

import sim
from analysis import cli as analysis_cli
from analysis import sensitivity as sensitivity_cli
from sim.batch import cli as batch_cli
from sim.classroom import cli as classroom_cli
from sim.command import (
    OutputFolder, Parser, add_lang, check_folder, examples, number, one_line_errors, path, short,
    whole,
)
from sim.viz import cli as viz_cli

# What `shequ run` prints: the KPIs (of reported cases, as Xining measures them) beside the
# whole-iceberg outcomes (every grievance that arose, silent ones included), then the money;
# compact headers (en, zh) that fit a terminal.
KPI_COLUMNS = {"response_rate": ("response", "响应"), "resolution_rate": ("resolution", "解决"),
               "satisfaction_rate": ("satisfied", "满意")}
ICEBERG_COLUMNS = {"resolved_share": ("resolved of all", "已解决/全部"),
                   "unvoiced_share": ("never voiced", "未反映")}
MONEY_COLUMNS = {"funds_allocated": ("funds", "经费"), "cum_spent": ("spent", "已支出"),
                 "unspent": ("unspent", "结余"), "cum_shortfall": ("shortfall", "缺口")}
RUN_WORDS = {
    "unmet": ("unmet days/1000", "未满足天数/千人"),
    "satisfaction": ("mean satisfaction", "平均满意度"),
    "wan": ("10k yuan", "万元"),
    "communities": ("communities", "社区数"),
    "class": ("class", "类别"),
    "legend": ("KPIs of reported cases, as Xining measures them: response, resolution, satisfied "
               "(at the return visit).\nEvery grievance that arose, silent ones included: "
               "resolved, never voiced (or found), unmet days (grievance-days per 1,000 residents "
               "a year).",
               "考核指标（已受理诉求，按西宁的口径）：响应、解决、回访满意。\n全部产生的诉求（包括未反映的）："
               "已解决、从未反映（也未被发现）、未满足天数（每千居民每年的诉求·天）。"),
}


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="shequ", description="Shequ (社区): simulate urban "
                    "community governance.")
    parser.add_argument("--version", action="version", version=f"shequ {sim.__version__}")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run one scenario and write its tables",
                         **examples("shequ run                                   # the reform, "
                                    "1:100, a year after the warm-up",
                                    "shequ run xining-uniform --scale 1 --seed 7 --out "
                                    "output/uniform-full"))
    run.add_argument("scenario", nargs="?", help="scenario name or .toml path "
                     "(default: xining-classified)")
    run.add_argument("--scale", type=number, help="share of residents simulated (1 = the full city)")
    run.add_argument("--days", type=whole, help="days to simulate")
    run.add_argument("--seed", type=whole, help="random seed of the run")
    run.add_argument("--out", type=path, help="output folder (default: output/SCENARIO-seedK); "
                     "new, empty, or a previous run's (nothing else is ever replaced)")
    run.add_argument("--no-figure", action="store_true", help="skip the summary figure")
    run.add_argument("--figures", action="store_true", help="also write the run's static figures "
                     "(graph.png, rates.png, overview.png)")
    add_lang(run, "the printed summary and the figures")
    val = sub.add_parser("validate", help="check a scenario file and its city",
                         **examples("shequ validate my-city.toml"))
    val.add_argument("scenario", help="scenario name or .toml path")
    add_lang(val, "the verdict")
    scn = sub.add_parser("scenarios", help="list the shipped scenarios (name and description)",
                         **examples("shequ scenarios", "shequ scenarios --lang zh"))
    add_lang(scn, "the descriptions (the shipped scenarios' Chinese titles)")
    batch_cli.add_parser(sub)
    analysis = analysis_cli.add_parsers(sub)
    viz_cli.add_parsers(sub)
    classroom_cli.add_parser(sub)
    sensitivity_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command is None:  # bare `shequ`: what it can do
        parser.print_help()
        return 0
    command = {"run": cmd_run, "validate": cmd_validate, "scenarios": cmd_scenarios,
               "batch": batch_cli.run, "viz": viz_cli.run_viz, "animate": viz_cli.run_animate,
               "classroom": classroom_cli.run,
               "sensitivity": sensitivity_cli.run, **analysis}[args.command]
    return one_line_errors(lambda: command(args))


def cmd_run(args) -> int:
    from sim import outputs
    from sim.errors import CannotWrite
    from sim.model import GovernanceModel
    from sim.scenario import load

    scenario = load(args.scenario)
    # Each flag is checked like a scenario key, and named in the error.
    for key in ("scale", "days", "seed"):
        value = getattr(args, key)
        if value is not None:
            scenario = scenario.with_overrides({"run": {key: value}},
                                               origin=f"command line --{key} {short(str(value))}")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in scenario.name).lstrip(".")
    out = args.out or Path("output") / f"{safe or 'run'}-seed{scenario['run']['seed']}"
    check_folder(out, "run", recognise=outputs.recognise_run)  # before anything is built
    if not args.no_figure or args.figures:
        from sim.viz.labels import require_fonts

        require_fonts(args.lang)
    start = time.perf_counter()
    with OutputFolder(out, "run", recognise=outputs.recognise_run) as folder:
        model = GovernanceModel(scenario=scenario)
        print(f"{model.policy.name}: {model.n_communities} communities, {len(model.residents):,} "
              f"residents simulated (scale {model.scale:g}), {model.days} days, seed {model.seed}")
        model.run()
        elapsed = time.perf_counter() - start
        try:
            outputs.write(model, folder, figure=not args.no_figure, lang=args.lang)
            if args.figures:
                viz_cli.write_figures(model, folder, lang=args.lang)
        except OSError as e:
            raise CannotWrite(f"--out {out}: cannot write ({e.strerror}); expected a writable "
                              "folder with room for the tables") from None
    print(format_summary(outputs.summary(model), args.lang))
    figures = ("" if args.no_figure else " and summary figure") + (", figures" if args.figures else "")
    print(f"\n{elapsed:.1f} s; tables, manifest{figures} written to {out}/")
    return 0


def format_summary(summary, lang: str = "en") -> str:
    """The run's outcomes by class, in two tables that fit a terminal, with what each counts."""
    from sim.labels import phrase, pick

    word = functools.partial(phrase, RUN_WORDS, lang=lang)
    table = summary.set_index("class").rename_axis(word("class"))
    if lang == "zh":
        table = table.rename(index={"city": "全市"})
    pct = lambda cols: (table[list(cols)] * 100).round(1).rename(  # noqa: E731
        columns={k: f"{pick(v, lang)} %" for k, v in cols.items()})
    outcomes = pct(KPI_COLUMNS).join(pct(ICEBERG_COLUMNS))
    outcomes[word("unmet")] = table["unmet_days_per_1000"].round(0).astype("Int64")
    outcomes[word("satisfaction")] = table["mean_satisfaction"].round(3)
    money = (table[list(MONEY_COLUMNS)] / 1e4).round(1).rename(
        columns={k: pick(v, lang) for k, v in MONEY_COLUMNS.items()})
    money.columns = [f"{c} ({word('wan')})" for c in money.columns]
    money[word("communities")] = table["communities"]
    return f"{word('legend')}\n{outcomes.to_string()}\n\n{money.to_string()}"


def cmd_validate(args) -> int:
    from sim.model import GovernanceModel
    from sim.scenario import load

    scenario = load(args.scenario)
    # Building the city checks the CSV, the classification and the funding total.
    model = GovernanceModel(scenario=scenario, scale=1e-4, days=1)
    counts = {k: int((model.classes == k).sum()) for k in model.class_labels}
    funds = int(model.funds.sum())
    if args.lang == "zh":
        classes = "，".join(f"{k} 类 {n} 个" for k, n in counts.items())
        print(f"{scenario.path}：有效。{model.n_communities} 个社区（{classes}），"
              f"每年经费 {funds * 1e-4:,.1f} 万元")
    else:
        print(f"{scenario.path}: valid. {model.n_communities} communities, classes {counts}, "
              f"funds {funds:,} yuan a year")
    return 0


def cmd_scenarios(args) -> int:
    from sim.scenario import load, shipped_scenarios

    for name in shipped_scenarios():
        print(f"{name:28s} {described(name, load(name).description, args.lang)}")
    return 0


def described(name: str, description: str, lang: str) -> str:
    """A shipped scenario in words: its description, or in Chinese its title from the app's
    label table (the description when it has none)."""
    if lang == "en":
        return description
    from sim.viz.labels import LABELS, text

    return text(f"scn_{name}", lang) if f"scn_{name}" in LABELS else description
