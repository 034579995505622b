"""`shequ classroom`: a class's shared city, its seats' codes, its pages and the teacher's loop.

It builds the one model (its warm-up run), serves the students' and the teacher's pages
(sim/classroom/pages.py) on `--host/--port`, prints each seat's community and code, the address
students open and the teacher's page's (with its key), and runs the class until the teacher ends
it — from the teacher's page, or at the console (Enter: to the end of the week or month, `d`: a
day, `q`: the end; the league table is printed after each). The log it writes replays exactly
(`shequ animate --classroom LOG`).
"""

import threading
import time
from pathlib import Path

from sim.errors import InputError

HELP = "run a class in one shared city: each student governs a community from a browser page"
KEYS = "Enter: run to the period's end · d: one day · q: end the class"


def add_parser(subparsers):
    from sim.command import add_lang, count, examples, number, path, port, whole

    parser = subparsers.add_parser("classroom", help=HELP, description=HELP, **examples(
        "shequ classroom --seats 8 --host 0.0.0.0        # every address is printed",
        "shequ classroom xining-uniform --period month --log class-3b.jsonl"))
    parser.add_argument("scenario", nargs="?", help="scenario name or .toml path (default: "
                        "xining-classified)")
    parser.add_argument("--scale", type=number, help="share of residents simulated (default "
                        "0.01, as the teaching app)")
    parser.add_argument("--days", type=whole, help="days of the reported period")
    parser.add_argument("--seed", type=whole, help="random seed of the run")
    parser.add_argument("--period", choices=("week", "month"), default="week",
                        help="days between two rounds of choices: a week (7) or a month (30)")
    parser.add_argument("--seats", type=count, default=8, help="seats, one community each, "
                        "taken from the classes A, B, C, D in turn (default 8)")
    parser.add_argument("--communities", help="the seats' communities instead, by number, "
                        "comma-separated")
    parser.add_argument("--log", type=path, help="the class's log, a new file (default: "
                        "classroom-DATE-TIME.jsonl here)")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default "
                        "127.0.0.1, this computer only; 0.0.0.0: the classroom's network, every "
                        "address printed)")
    parser.add_argument("--port", type=port, default=8765, help="port (default 8765; 0 = any "
                        "free)")
    add_lang(parser, "the pages and the printed tables")
    return parser


def communities_of(text: str | None, base) -> list[int] | None:
    """The seats' communities named on the command line (numbers from 1, or names, as `shequ viz`
    takes them), as the model's numbers."""
    from sim.viz.controls import probe
    from sim.viz.graph import parse_communities

    try:
        chosen = parse_communities(text, probe(base).names)
    except ValueError as e:
        raise InputError(f"--communities {text}: {e}") from None
    if chosen is not None and len(set(chosen)) != len(chosen):
        raise InputError(f"--communities {text}: expected each community once")
    return chosen


def say_now(line: str) -> None:
    print(line, flush=True)  # at once, also into a pipe (a teacher's terminal log, a test)


def run(args, read=None, say=say_now) -> int:
    """Check everything, build the class, serve its pages, print its seats and addresses, run
    until the teacher ends it (`read`: the teacher's words at the console, default `input`)."""
    from sim.classroom.log import check_new
    from sim.classroom.loop import TeacherLoop
    from sim.classroom.serve import ClassServer
    from sim.classroom.session import Session
    from sim.viz.app import APP_SCALE, residents_per_building
    from sim.viz.controls import base_scenario
    from sim.viz.server import addresses, check_port, network_warning

    if args.seats < 1 and args.communities is None:
        raise InputError("--seats 0: expected at least one seat")
    log = args.log or Path(time.strftime("classroom-%Y%m%d-%H%M%S.jsonl"))
    check_new(log, "--log")
    port = check_port(args.host, args.port)
    scale = args.scale or APP_SCALE
    overrides = {"residents_per_building": residents_per_building(scale)}
    base = base_scenario(args.scenario, overrides, scale, args.days)
    communities = communities_of(args.communities, base)
    say("building the class's city (its warm-up years run first) ...")
    session = Session(scenario=args.scenario, scale=scale, days=args.days, seed=args.seed,
                      overrides=overrides, period=args.period, seats=args.seats,
                      communities=communities, log=log)
    loop = TeacherLoop(session)
    served = ClassServer(session, loop, lang=args.lang)
    try:
        served.start(args.host, port, announce=say)
        urls = addresses(args.host, port)
        announce(session, urls, urls[0] + served.teacher_path(), network_warning(args.host), say)
        teach(session, loop, read or input, say)
    except KeyboardInterrupt:
        pass
    finally:
        loop.end()
        served.stop()
    say(f"the class ended on day {session.day}; its log: {log} (replay: shequ animate "
        f"--classroom {log} --out class.gif)")
    return 0


def announce(session, urls: list[str], teacher: str, warning: str | None, say) -> None:
    m = session.model
    say(f"{m.policy.name}: scale {m.scale:g}, seed {m.seed}, {m.days} days; a round of choices "
        f"every {session.period} ({session.period_days} days); log: {session.log.path}")
    say("seat  community      class  code")
    for s in session.seats:
        say(f"{s.number:>4}  {s.community_name:<13}  {m.classes[s.community]:>5}  {s.code}")
    say("students join at:")
    for url in urls:
        say(f"  {url}")
    say(f"the teacher's page (keep its key to yourself): {teacher}")
    say(f"at this console: {KEYS}")
    if warning:
        say(warning)


def teach(session, loop, read, say) -> None:
    """Until the class ends (the teacher's page or the console), the console's words run it too;
    a console that closes (no input) leaves the class to the teacher's page."""
    console = threading.Thread(target=at_console, args=(session, loop, read, say),
                               name="classroom-console", daemon=True)
    console.start()
    while not session.ended:
        time.sleep(0.2)


def at_console(session, loop, read, say) -> None:
    """The teacher's words at the console: a period, a day, or the end."""
    while not session.ended:
        try:
            word = read(f"day {session.day} — {KEYS}: ").strip().lower()
        except (EOFError, OSError):
            return
        if word in ("q", "quit", "end"):
            loop.end()
            return
        if session.ended:
            return
        loop.step(1) if word == "d" else (loop.pause(), session.run_period())
        say(league_text(session))


def league_text(session) -> str:
    table = session.league()
    cols = ["class", "rank", "seat", "student", "name", "resolved_share",
            "resolution_rate", "unmet_days_per_1000"]
    return f"day {session.day}\n" + table[cols].to_string(index=False, float_format="%.3f")
