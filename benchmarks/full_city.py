"""Full Xining at 1:1 for a reported year (DESIGN §8): build and run time, throughput, memory.

    python -m benchmarks.full_city [--scale 1] [--days 365] [--scenario xining-classified]

Builds the city, runs every day — the warm-up, the reported year and the run-on days that follow
its grievances to their end — and prints the figures against the bar: at most 10 s per simulated
year (365 simulated days of any period) and 1 GiB peak memory on a 2-core machine (the interim
bar of the outcome measures; "Speed near the limit" lowers it). Writes no files. Exit status 0
whether or not the bar is met (a benchmark reports; it does not gate), 2 on bad arguments.
"""

import argparse
import resource
import sys
import time

YEAR_BAR_S = 10.0  # seconds per 365 simulated days
MEMORY_BAR_MIB = 1024.0


def peak_memory_mib() -> float:
    """Peak resident set size of this process, in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def run(scale: float = 1.0, days: int = 365, scenario: str = "xining-classified") -> dict:
    """Build and run one city; returns the measured figures."""
    start = time.perf_counter()
    from sim.model import GovernanceModel  # the import counts towards wall time

    imported = time.perf_counter()
    model = GovernanceModel(scenario=scenario, scale=scale, days=days)
    built = time.perf_counter()
    model.run()
    ran = time.perf_counter()
    residents = len(model.residents)
    return {
        "scenario": scenario, "scale": scale, "days": model.steps,
        "residents": residents, "grievances": len(model.grievances),
        "import_s": imported - start, "build_s": built - imported, "run_s": ran - built,
        "wall_s": ran - start,
        "resident_days_per_s": residents * model.steps / (ran - built),
        "per_year_s": (ran - built) / model.steps * 365,
        "peak_mib": peak_memory_mib(),
    }


def report(r: dict) -> bool:
    """Print the figures and the bar; True when every figure passes."""
    wall_ok, mem_ok = r["per_year_s"] <= YEAR_BAR_S, r["peak_mib"] <= MEMORY_BAR_MIB
    at_bar = r["scale"] == 1.0
    print(f"full city: {r['scenario']}, scale {r['scale']:g}, {r['days']} simulated days "
          "(warm-up, reported period, run-on)")
    print(f"  residents            {r['residents']:>14,}")
    print(f"  grievances           {r['grievances']:>14,}")
    print(f"  import time          {r['import_s']:>12.2f} s")
    print(f"  build time           {r['build_s']:>12.2f} s")
    print(f"  run time             {r['run_s']:>12.2f} s")
    print(f"  total wall time      {r['wall_s']:>12.2f} s")
    print(f"  per simulated year   {r['per_year_s']:>12.2f} s   bar <= {YEAR_BAR_S:.0f} s: "
          f"{'PASS' if wall_ok else 'FAIL'}")
    print(f"  resident-days / s    {r['resident_days_per_s']:>14,.0f}")
    print(f"  peak memory          {r['peak_mib']:>12.0f} MiB bar <= {MEMORY_BAR_MIB:.0f} MiB: "
          f"{'PASS' if mem_ok else 'FAIL'}")
    if not at_bar:
        print("  (the DESIGN §8 bar is for scale 1; this scale differs)")
    return wall_ok and mem_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.full_city", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the population (1 = 1:1)")
    parser.add_argument("--days", type=int, default=365, help="days to simulate")
    parser.add_argument("--scenario", default="xining-classified", help="scenario name or path")
    args = parser.parse_args(argv)
    report(run(args.scale, args.days, args.scenario))
    return 0


if __name__ == "__main__":
    sys.exit(main())
