"""Cost of a simulated day at a small scale (the batches' case): CPU ms per `model.steps`.

    python -m benchmarks.per_day [--scale 0.01] [--seeds 3]

Runs the reform scenario for each seed with `daily=False` (as batches that keep no daily table)
and prints the median CPU time per simulated day (warm-up and run-on days included). To compare
two versions of the model, run it from this checkout with `PYTHONPATH=<the other checkout>` for
the other, alternating, on the same machine.
"""

import argparse
import statistics
import sys
import time


def per_day(scale: float, seed: int) -> tuple[float, int]:
    from sim.model import GovernanceModel

    model = GovernanceModel(scenario="xining-classified", rng=seed, scale=scale, daily=False)
    start = time.process_time()
    model.run()
    return (time.process_time() - start) / model.steps * 1000, model.steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.per_day", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    runs = [per_day(args.scale, seed) for seed in range(1, args.seeds + 1)]
    print(f"scale {args.scale:g}: {statistics.median(ms for ms, _ in runs):.3f} ms per simulated "
          f"day (median of {len(runs)} runs of {runs[0][1]} days, CPU time, daily=False)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
