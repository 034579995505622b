"""The visual commands: `shequ viz` (the app), `shequ animate` (a film), and the figures of
`shequ run --figures`. `sim.cli` adds them with `add_parsers(subparsers)`; `python -m sim.viz`
runs them on their own."""

import time
from pathlib import Path

from sim.errors import CannotWrite, InputError

VIZ_HELP = "watch a run in the browser: the teaching app (Mesa and Solara)"
ANIMATE_HELP = ("write a GIF or MP4 film of a run (graph and class panels, with captions), or of "
                "two runs side by side, for slides")


def add_parsers(subparsers) -> None:
    """Add `viz` and `animate` to the `shequ` command's subparsers."""
    from sim.command import examples, number, path, port, whole

    viz = subparsers.add_parser("viz", help=VIZ_HELP, description=VIZ_HELP, **examples(
        "shequ viz --open                     # the reform, in this computer's browser",
        "shequ viz --host 0.0.0.0 --lang zh   # for a classroom: every address is printed"))
    viz.add_argument("scenario", nargs="?", help="scenario name or .toml path (default: "
                     "xining-classified)")
    add_run_options(viz, number, whole)
    viz.add_argument("--host", default="127.0.0.1", help="address to serve on (default: "
                     "127.0.0.1, this computer only; 0.0.0.0: every network, so that students "
                     "can open it too: every address is printed)")
    viz.add_argument("--port", type=port, default=8765, help="port (default 8765; 0 = any free)")
    viz.add_argument("--open", action="store_true", help="open the app in the web browser")
    anim = subparsers.add_parser("animate", help=ANIMATE_HELP, description=ANIMATE_HELP, **examples(
        "shequ animate --out reform.gif",
        "shequ animate xining-uniform --beside xining-classified --out before-after.mp4"))
    anim.add_argument("scenario", nargs="?", help="scenario name or .toml path (default: "
                      "xining-classified)")
    anim.add_argument("--out", type=path, required=True, help="the film: FILE.gif or FILE.mp4 "
                      "(a new file, or a film Shequ wrote)")
    add_run_options(anim, number, whole)
    anim.add_argument("--every", type=whole, help="days between frames (default: about 70 "
                      "frames in all)")
    anim.add_argument("--fps", type=whole, default=8, help="frames a second (default 8)")
    anim.add_argument("--dpi", type=whole, default=80, help="resolution (default 80: 1040 x 576 "
                      "pixels)")
    anim.add_argument("--beside", metavar="SCENARIO", help="a second scenario, filmed beside the "
                      "first with the same city and seed (e.g. xining-uniform --beside "
                      "xining-classified: before and after the reform)")
    anim.add_argument("--title", help="the film's title (default: the scenario's title in "
                      "words)")
    anim.add_argument("--classroom", type=path, metavar="LOG", help="a class's log (shequ "
                      "classroom): its city with every student's choice, to the day it ended")


def add_run_options(parser, number, whole) -> None:
    parser.add_argument("--scale", type=number, help="share of residents simulated (default "
                        "0.01 here, small enough to watch)")
    parser.add_argument("--days", type=whole, help="days to simulate")
    parser.add_argument("--seed", type=whole, help="random seed of the run")
    from sim.command import add_lang

    add_lang(parser, "the labels")
    parser.add_argument("--communities", help="communities to draw, by number or name, comma-"
                        "separated (default: one of each class)")
    parser.add_argument("--store", type=Path, help="a batch result store, to replay one of its "
                        "runs (with --run)")
    parser.add_argument("--run", dest="run_id", help="the run id to replay from --store")


def app_config(args):
    """The app's settings from the command line: a scenario at a watchable scale, or a stored
    run exactly as it was made. Checks everything before anything starts."""
    from sim.viz.app import APP_SCALE, AppConfig, residents_per_building
    from sim.viz.controls import base_scenario, probe
    from sim.viz.graph import parse_communities

    if (args.store is None) != (args.run_id is None):
        raise InputError("--store and --run: expected both (a result store and a run id in it) "
                         "or neither")
    if args.store is not None:
        from sim.viz.replay import read_spec

        if args.scenario or args.scale is not None or args.seed is not None:
            raise InputError("--run: a replay is the stored run itself; expected no SCENARIO, "
                             "--scale or --seed with it (--days may shorten it)")
        spec = read_spec(args.store, args.run_id)
        config = AppConfig(scenario=spec.get("scenario"), scale=spec.get("scale"),
                           days=args.days or spec.get("days"), seed=spec.get("seed"),
                           overrides=spec["overrides"], lang=args.lang,
                           replay={"store": str(args.store), "run": str(args.run_id)})
    else:
        scale = args.scale or APP_SCALE
        config = AppConfig(scenario=args.scenario, scale=scale, days=args.days, seed=args.seed,
                           overrides={"residents_per_building": residents_per_building(scale)},
                           lang=args.lang)
    base = base_scenario(config.scenario, config.overrides, config.scale, config.days)
    config.scenario = str(base.path) if base.path else config.scenario
    try:
        config.communities = parse_communities(args.communities, probe(base).names)
    except ValueError as e:
        raise InputError(f"--communities {args.communities}: {e}") from None
    return config


def run_viz(args) -> int:
    """`shequ viz`: serve the app and print its address."""
    from sim.viz.server import serve

    config = app_config(args)
    try:
        serve(config, host=args.host, port=args.port, open_browser=args.open,
              announce=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        pass
    return 0


def run_animate(args) -> int:
    """`shequ animate`: run the model and write the film."""
    from sim.command import check_file, output_file
    from sim.viz.animate import check_out, film
    from sim.viz.controls import TeachingModel, base_scenario

    check_out(args.out)
    check_file(args.out, "--out")
    if args.classroom is not None:
        return film_classroom(args)
    config = app_config(args)
    if args.beside and config.replay:
        raise InputError("--beside: a replay films the stored run alone; expected no --beside "
                         "with --run")
    other = base_scenario_of(args.beside, config) if args.beside else None
    start = time.perf_counter()
    years = base_scenario(config.scenario, config.overrides, config.scale, config.days)["run"].get(
        "warmup_years", 0)
    if years:
        print(f"warming up: the scenario's {years} warm-up year(s) run before day 1 ...",
              flush=True)
    model = TeachingModel(**config.fixed_params(), watch=True)
    beside = None
    if other is not None:
        beside = TeachingModel(**(config.fixed_params() | {"policy": other, "rng": model.seed}),
                               watch=True)
    names = model.policy.name + (f" beside {beside.policy.name}" if beside else "")
    print(f"{names}: {model.days} days, scale {model.scale:g}, seed {model.seed}; "
          f"filming to {args.out}", flush=True)

    def progress(done, total):
        if done == total or done % 10 == 0:
            print(f"  frame {done}/{total}", flush=True)

    try:
        with output_file(args.out, "--out") as tmp:
            film(model, tmp, lang=args.lang, communities=config.communities, every=args.every,
                 fps=args.fps, dpi=args.dpi, progress=progress, beside=beside, title=args.title)
    except OSError as e:
        raise CannotWrite(f"--out {args.out}: cannot write ({e}); expected a writable file") \
            from None
    print(f"{time.perf_counter() - start:.1f} s; film written to {args.out}")
    return 0


def film_classroom(args) -> int:
    """`shequ animate --classroom LOG`: the class's city replayed with its choices, filmed."""
    from sim.classroom.replay import planned
    from sim.command import output_file
    from sim.viz.animate import film

    given = [flag for flag, value in (("SCENARIO", args.scenario), ("--scale", args.scale),
                                      ("--days", args.days), ("--seed", args.seed),
                                      ("--store", args.store), ("--beside", args.beside))
             if value is not None]
    if given:
        raise InputError(f"--classroom: the class's log fixes its city and run; expected no "
                         f"{', '.join(given)} with it")
    start = time.perf_counter()
    print(f"rebuilding the class of {args.classroom} (its warm-up first) ...", flush=True)
    model = planned(args.classroom)
    last = model.days if model.class_end is None else model.class_end - model.warmup_days
    communities = model.class_seats[:4] or None  # the first seats' communities
    if args.communities:
        from sim.viz.graph import parse_communities

        try:
            communities = parse_communities(args.communities, list(model.communities["name"]))
        except ValueError as e:
            raise InputError(f"--communities {args.communities}: {e}") from None
    print(f"{model.policy.name}: {last} days of class, scale {model.scale:g}, seed "
          f"{model.seed}; filming to {args.out}", flush=True)
    try:
        with output_file(args.out, "--out") as tmp:
            film(model, tmp, lang=args.lang, communities=communities, every=args.every,
                 fps=args.fps, dpi=args.dpi, title=args.title, last_day=last)
    except OSError as e:
        raise CannotWrite(f"--out {args.out}: cannot write ({e}); expected a writable file") \
            from None
    print(f"{time.perf_counter() - start:.1f} s; film written to {args.out}")
    return 0


def base_scenario_of(name: str, config) -> str:
    """The --beside scenario's file, checked now (a missing one is one clear line)."""
    from sim.viz.controls import base_scenario

    try:
        base = base_scenario(name, config.overrides, config.scale, config.days)
    except InputError as e:
        raise InputError(f"--beside {e}") from None
    return str(base.path) if base.path else name


def write_figures(model, folder, lang: str = "en", communities: list[int] | None = None) -> list[Path]:
    """`shequ run --figures`: the static figures of one finished run, into a claimed output
    folder (`sim.command.OutputFolder`): `graph.png` (the neighbourhood graph of one community of
    each class at the end), `rates.png` (rates and funds left by class over the run) and
    `overview.png` (both). A path instead of a folder is claimed here."""
    from sim import outputs
    from sim.command import claimed
    from sim.viz import figures, graph

    view = graph.layout(model, communities)
    with claimed(folder, "run", recognise=outputs.recognise_run) as out:
        return [out.write(name, lambda tmp, fig=fig: fig.savefig(tmp, dpi=110))
                for name, fig in (("graph.png", figures.graph_figure(model, view, lang)),
                                  ("rates.png", figures.plots_figure(model, lang)),
                                  ("overview.png", figures.frame_figure(model, view, lang)))]


def main(argv: list[str] | None = None) -> int:
    """`python -m sim.viz viz|animate …`: the same commands without the rest of `shequ`."""
    from sim.command import Parser, one_line_errors

    parser = Parser(prog="python -m sim.viz", description="Shequ's visual commands")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return one_line_errors(lambda: {"viz": run_viz, "animate": run_animate}[args.command](args))


if __name__ == "__main__":
    raise SystemExit(main())
