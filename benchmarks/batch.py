"""Batch throughput (DESIGN §8): runs per minute of the 1:100 city for 365 days, through the batch
engine with its result store, against the bar of 1,000 runs in ≤ 5 minutes on 2 cores.

    python -m benchmarks.batch [--runs 1000] [--workers 2] [--scale 0.01] [--days 365]
                               [--keep summary,communities] [--out DIR]

Runs the baseline and the reform (xining-uniform, xining-classified) with common random numbers,
`--runs` runs in all, into a temporary result folder (or `--out`), and prints runs/min, the time
per run inside the model and the engine's own cost (the driver's CPU per run, the wall time not
spent in the model), the driver's peak memory, and the time 1,000 runs would take. Exit status 0
whether or not the bar is met (a benchmark reports; it does not gate), 2 on bad arguments.
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

BAR_RUNS = 1000
BAR_MINUTES = 5.0
PROC_STATM = "/proc/self/statm"


def peak_memory_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def rss_mib() -> float:
    """This process's resident memory now (Linux), else its peak."""
    try:
        with open(PROC_STATM) as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return peak_memory_mib()


def experiment_file(folder: Path, runs: int, scale: float, days: int, keep: list[str]) -> Path:
    path = folder / "batch-benchmark.toml"
    path.write_text(f"""name = "batch-benchmark"
scenarios = ["xining-uniform", "xining-classified"]
replications = {max(1, runs // 2)}
seed = 1
days = {days}
scale = {scale}
keep = {keep!r}
""".replace("'", '"'))
    return path


def run(runs: int, workers: int, scale: float, days: int, keep: list[str], out: Path | None) -> dict:
    from sim.batch import load, run_batch
    from sim.batch.store import read_parts

    with tempfile.TemporaryDirectory(prefix="shequ-batch-bench-") as tmp:
        folder = out or Path(tmp) / "results"
        experiment = load(experiment_file(Path(tmp), runs, scale, days, keep))
        experiment.resolve()  # validation, before the clock starts
        marks = {}

        def announce(report):  # the folder is open, the runs are about to be submitted
            marks["cpu"] = resource.getrusage(resource.RUSAGE_SELF)
            marks["rss"] = rss_mib()

        start, epoch = time.perf_counter(), time.time()
        report = run_batch(experiment, folder, workers=workers, progress=None, announce=announce)
        wall = time.perf_counter() - start
        after, cpu = resource.getrusage(resource.RUSAGE_SELF), marks["cpu"]
        manifest = read_parts(Path(folder) / "manifest")
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    n = report.ran
    finished = manifest["finished"].sort_values()
    first = finished.iloc[0].timestamp() - epoch
    steady = (finished.iloc[-1] - finished.iloc[0]).total_seconds()
    steady_rate = (n - 1) / steady * 60 if n > 1 and steady > 0 else 0.0
    model_s = float(manifest["seconds"].sum())
    driver_cpu = (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)
    extrapolated = first + (BAR_RUNS - 1) / steady_rate * 60 if steady_rate > 0 \
        else BAR_RUNS * wall / max(n, 1)
    return {"runs": n, "failed": len(report.failed), "workers": workers, "wall_s": wall,
            "runs_per_min": n / wall * 60, "steady_runs_per_min": steady_rate,
            "startup_s": first, "model_s_per_run": model_s / max(n, 1),
            "overhead_s_per_run": (wall * workers - model_s) / max(n, 1),
            "driver_cpu_ms_per_run": driver_cpu / max(n, 1) * 1000,
            "driver_peak_mib": peak_memory_mib(), "store_mib": size / 2**20,
            "driver_rss_growth_mib": rss_mib() - marks["rss"],
            "extrapolated_s": extrapolated}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--runs", type=int, default=BAR_RUNS, help="runs in all (default 1000)")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes")
    parser.add_argument("--scale", type=float, default=0.01, help="share of residents (0.01)")
    parser.add_argument("--days", type=int, default=365, help="days a run (365)")
    parser.add_argument("--keep", default="summary,communities",
                        help="tables kept per run (default summary,communities)")
    parser.add_argument("--out", type=Path, help="result folder to keep (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.runs < 2 or args.workers < 1:
        parser.error("expected --runs >= 2 and --workers >= 1")
    r = run(args.runs, args.workers, args.scale, args.days, args.keep.split(","), args.out)
    minutes = r["extrapolated_s"] / 60
    verdict = "PASS" if minutes <= BAR_MINUTES else "FAIL"
    print(f"batch: xining-uniform + xining-classified, scale {args.scale:g}, {args.days} days, "
          f"keep {args.keep}")
    print(f"  runs                    {r['runs']:>10,}   ({r['failed']} failed)")
    print(f"  workers                 {r['workers']:>10}")
    print(f"  wall time               {r['wall_s']:>10.1f} s")
    print(f"  runs / min              {r['runs_per_min']:>10.1f}   (after start-up: "
          f"{r['steady_runs_per_min']:.1f})")
    print(f"  first result after      {r['startup_s']:>10.2f} s   (pool start-up and one run)")
    print(f"  model time / run        {r['model_s_per_run']:>10.3f} s   (in the worker)")
    print(f"  engine overhead / run   {r['overhead_s_per_run']:>10.3f} s   "
          "(workers x wall - model time, per run)")
    print(f"  driver CPU / run        {r['driver_cpu_ms_per_run']:>10.1f} ms  "
          "(receiving and writing results)")
    print(f"  driver peak memory      {r['driver_peak_mib']:>10.0f} MiB  (growth while running: "
          f"{r['driver_rss_growth_mib']:+.1f} MiB)")
    print(f"  result folder           {r['store_mib']:>10.1f} MiB")
    print(f"  1,000 runs (extrapolated) {minutes:>8.1f} min  bar <= {BAR_MINUTES:g} min on 2 cores: "
          f"{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
