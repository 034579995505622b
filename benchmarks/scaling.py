"""Cost against city size: the full year at 1:100, 1:10 and 1:1, time per resident-day.

    python -m benchmarks.scaling [--scales 0.01,0.1,1] [--days 365] [--plot docs/images/scaling.png]

Each scale runs in a fresh process (so no city is cached from a smaller run) and is timed from
model construction to the last day. A log-log plot of wall time against residents shows whether
cost grows linearly (slope 1).
"""

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

ONE_RUN = """
import json, time
t0 = time.perf_counter()
from sim.model import GovernanceModel
t1 = time.perf_counter()
m = GovernanceModel(scenario={scenario!r}, scale={scale}, days={days}, rng=1)
t2 = time.perf_counter()
m.run()
t3 = time.perf_counter()
print(json.dumps({{"residents": len(m.residents), "build_s": t2 - t1, "run_s": t3 - t2}}))
"""


def measure(scale: float, days: int, scenario: str) -> dict:
    code = ONE_RUN.format(scenario=scenario, scale=scale, days=days)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r |= {"scale": scale, "days": days, "wall_s": r["build_s"] + r["run_s"]}
    r["ns_per_resident_day"] = r["wall_s"] / (r["residents"] * days) * 1e9
    return r


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["residents"] for r in rows]
    y = [r["wall_s"] for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(x, y, "o-", label="measured (build + 365 days)")
    ax.loglog(x, [y[-1] * xi / x[-1] for xi in x], "--", color="grey", label="linear (slope 1)")
    for r in rows:
        ax.annotate(f"1:{round(1 / r['scale'])}", (r["residents"], r["wall_s"]),
                    textcoords="offset points", xytext=(6, -12))
    ax.set_xlabel("residents simulated")
    ax.set_ylabel("wall time (s)")
    ax.set_title("Shequ: cost against city size")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="0.01,0.1,1")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--scenario", default="xining-classified")
    parser.add_argument("--plot", type=Path, help="write a log-log plot here")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'scale':>7} {'residents':>11} {'build s':>8} {'run s':>8} {'wall s':>8} "
          f"{'ns / resident-day':>18}")
    for scale in (float(s) for s in args.scales.split(",")):
        r = measure(scale, args.days, args.scenario)
        rows.append(r)
        print(f"{'1:' + str(round(1 / scale)):>7} {r['residents']:>11,} {r['build_s']:>8.2f} "
              f"{r['run_s']:>8.2f} {r['wall_s']:>8.2f} {r['ns_per_resident_day']:>18.1f}",
              flush=True)
    if len(rows) > 1:
        slope = (math.log(rows[-1]["wall_s"]) - math.log(rows[0]["wall_s"])) / (
            math.log(rows[-1]["residents"]) - math.log(rows[0]["residents"]))
        print(f"log-log slope of wall time against residents, first to last: {slope:.2f}")
    if args.plot:
        plot(rows, args.plot)
        print(f"plot written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
