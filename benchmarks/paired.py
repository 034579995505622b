"""The model's day against another version's, paired day by day: two processes (this checkout and
`--other`, a checkout of another commit) build the same scenario, scale and seed, and step in
turns — `--block` days of one, then of the other, who goes first alternating — so that a machine
shared with other jobs slows both alike. In blocks, not day by day, so that a model's day finds
the caches as its own previous day left them, as in a run of its own (day by day, the other
model's 300 MB at 1:1 would evict this one's columns, favouring a model that passes over them
less often). Prints each side's mean CPU time a day and the ratio of
their sums, with the median and quartiles of the days' own ratios; and checks that both ended
with the same residents' satisfaction and trust, bit for bit (a faster model must not differ).

    python -m benchmarks.paired --other ../shequ-056cad3 [--scale 1] [--start 90] [--days 120]
                                [--block 10]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

# The stepping side, run as `python -c` in each checkout (its `sim` first on the path). It reads
# a line per command: "step" (answers the day's CPU and wall seconds) or "digest".
SIDE = """
import hashlib, json, sys, time
from sim.model import GovernanceModel
kw = json.loads(sys.argv[1])
start = kw.pop("start")
model = GovernanceModel(**kw)
for _ in range(start):
    model.step()
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "step":
        t, c = time.perf_counter(), time.process_time()
        model.step()
        print(json.dumps([time.process_time() - c, time.perf_counter() - t]), flush=True)
    else:
        r = model.residents
        digest = hashlib.sha256(r.satisfaction.tobytes() + r.trust.tobytes()).hexdigest()
        print(json.dumps(digest), flush=True)
"""


def side(checkout: Path, kw: dict) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    proc = subprocess.Popen([sys.executable, "-c", SIDE, json.dumps(kw)], cwd=checkout, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc


def ask(proc: subprocess.Popen, command: str):
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def run(other: Path, scale: float, start: int, days: int, seed: int = 1, block: int = 10,
        scenario: str = "xining-classified") -> dict:
    here = Path(__file__).resolve().parents[1]
    kw = dict(scenario=scenario, scale=scale, daily=False, warmup_years=0, rng=seed, start=start)
    procs = {"this": side(here, kw), "other": side(other.resolve(), kw)}
    for proc in procs.values():
        assert proc.stdout.readline().strip() == "ready"
    times = {name: [] for name in procs}
    try:
        for turn, first in enumerate(range(0, days, block)):
            for name in (["this", "other"] if turn % 2 == 0 else ["other", "this"]):
                for _ in range(first, min(first + block, days)):
                    times[name].append(ask(procs[name], "step"))
        same = ask(procs["this"], "digest") == ask(procs["other"], "digest")
    finally:
        for proc in procs.values():
            proc.stdin.close()
            proc.wait()
    cpu = {name: np.array(t)[:, 0] for name, t in times.items()}
    wall = {name: np.array(t)[:, 1] for name, t in times.items()}
    ratio = cpu["other"] / cpu["this"]
    return {"scale": scale, "start": start, "days": days, "block": block, "same": same,
            "this_ms": cpu["this"].mean() * 1e3, "other_ms": cpu["other"].mean() * 1e3,
            "ratio": cpu["other"].sum() / cpu["this"].sum(),
            "median": float(np.median(ratio)), "q25": float(np.quantile(ratio, 0.25)),
            "q75": float(np.quantile(ratio, 0.75)),
            "wall_ratio": wall["other"].sum() / wall["this"].sum()}


def report(r: dict, other: Path) -> None:
    print(f"paired days: scale {r['scale']:g}, {r['days']} days timed after {r['start']} "
          f"(daily=False), CPU time, in turns of {r['block']} days")
    print(f"  this checkout         {r['this_ms']:8.2f} ms a day")
    print(f"  the other checkout    {r['other_ms']:8.2f} ms a day   ({other.resolve().name})")
    print(f"  other / this          {r['ratio']:8.2f} x   (days' ratios: median {r['median']:.2f}, "
          f"quartiles {r['q25']:.2f}-{r['q75']:.2f}; wall time {r['wall_ratio']:.2f} x)")
    print(f"  residents' satisfaction and trust at the end: "
          f"{'identical' if r['same'] else 'DIFFERENT'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.paired", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", type=Path, help="a checkout of another commit (without it, "
                        "as in `python -m benchmarks`, nothing is run)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", type=int, default=90, help="days stepped first, untimed")
    parser.add_argument("--days", type=int, default=120, help="days timed, in turns")
    parser.add_argument("--block", type=int, default=10, help="days a turn")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.other is None:
        print("benchmarks.paired: no --other checkout to compare with; nothing run")
        return 0
    r = run(args.other, args.scale, args.start, args.days, args.seed, args.block)
    report(r, args.other)
    return 0 if r["same"] else 1


if __name__ == "__main__":
    sys.exit(main())
