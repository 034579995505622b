"""Running an experiment: the worker function, the executors, the bounded submission window and
the progress bar (DESIGN §9).

The worker is a plain top-level function, `run_one(task) -> RunResult`: it builds the model from
the task's scenario and seed, runs it, and returns its tables (with the run's identifying
columns) or, if the model raised, the error — named with the variant, scenario and seed — and its
traceback. The driver submits through any `concurrent.futures.Executor` (local processes, or a
Dask cluster's executor), never more than `window` runs at a time, and writes each result to the
store as soon as it arrives, so its memory does not grow with the number of runs.
"""

import multiprocessing
import os
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from sim.batch.experiment import Experiment, Task
from sim.batch.store import Store, config_task, with_identity
from sim.errors import InputError


# ---- the worker -----------------------------------------------------------------------------
@dataclass
class RunResult:
    """What a worker sends back: the run's tables, or its error and traceback."""

    run_id: str
    ok: bool
    tables: dict = field(default_factory=dict)  # table name -> pyarrow.Table
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    started: float = 0.0  # epoch seconds
    finished: float = 0.0
    host: str = ""
    pid: int = 0
    versions: dict = field(default_factory=dict)


class RunError(Exception):
    """A model error, re-raised with the run that caused it (variant, scenario, point, seed)."""


def describe(task: Task) -> str:
    c = task.config
    point = "" if not task.keys else f", sweep point {c.point} (" + ", ".join(
        f"{k} = {v}" for k, v in zip(task.keys, c.values)) + ")"
    return (f"run {task.run_id}: variant \"{c.variant}\", scenario \"{c.scenario.name}\"{point}, "
            f"replication {task.replication}, seed {task.seed}")


def simulate(task: Task) -> dict:
    """Run one task; its kept tables as pyarrow Tables. A model error is raised as RunError."""
    from sim import outputs
    from sim.model import GovernanceModel

    try:
        # Daily rows by class cost a sixth of a small run: made only when the table is kept.
        model = GovernanceModel(scenario=task.config.scenario, rng=task.seed,
                                daily="daily" in task.keep)
        model.run()
        frames = {"summary": outputs.summary, "communities": outputs.communities,
                  "daily": outputs.daily}
        return {name: with_identity(task, to_arrow(frames[name](model))) for name in task.keep}
    except Exception as e:
        raise RunError(f"{type(e).__name__}: {e} ({describe(task)})") from e


def to_arrow(frame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def run_one(task: Task) -> RunResult:
    """The worker function: one run, never raising — an error comes back in the result."""
    import mesa

    import sim

    started, clock = time.time(), time.perf_counter()
    result = RunResult(task.run_id, True, started=started, host=socket.gethostname(),
                       pid=os.getpid(), versions={"shequ": sim.__version__,
                                                  "mesa": mesa.__version__})
    try:
        result.tables = simulate(task)
    except RunError as e:
        result.ok, result.error = False, str(e)
        result.traceback = "".join(traceback.format_exception(e.__cause__ or e))
    result.seconds = time.perf_counter() - clock
    result.finished = time.time()
    return result


def worker_failure(task: Task, error: BaseException, what: str) -> RunResult:
    """A run whose worker (not its model) failed: a dead process, a lost cluster worker."""
    now = time.time()
    return RunResult(task.run_id, False,
                     error=f"{what}: {type(error).__name__}: {error} ({describe(task)})",
                     traceback="".join(traceback.format_exception(error)),
                     started=now, finished=now, host=socket.gethostname(), pid=os.getpid())


def rerun(folder: Path | str, run: str) -> dict:
    """Re-run one run of a result folder on its own, from experiment.json alone: its tables
    (pandas), which equal the stored ones. A model error is raised as RunError."""
    record = Store(folder).record()
    if record is None:
        raise InputError(f"{folder}: expected a result folder with an experiment.json")
    return {name: table.to_pandas() for name, table in simulate(config_task(record, run)).items()}


# ---- executors ------------------------------------------------------------------------------
class InProcessExecutor(Executor):
    """Runs each task at once in this process (`--workers 0`: for debugging and profiling)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 — as a pool would: the error goes in the future
            future.set_exception(e)
        return future


def process_pool(workers: int) -> "WorkerPool":
    """Local worker processes, forked from a server that has already imported the model."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.batch.runner", "sim.model"])
    else:
        context = multiprocessing.get_context("spawn")
    return WorkerPool(workers, context)


class WorkerPool(ProcessPoolExecutor):
    """A process pool whose workers end with their driver.

    Each worker watches a pipe (the lifeline) whose only writing end the driver holds. The
    kernel closes that end when the driver dies, however it dies (kill -9, a lost session), and
    `stop()` closes it on purpose: either way every worker exits within a second, dropping the
    run it had. Without it a worker whose driver died would finish the runs queued for it and
    then wait for more for ever. The forkserver (the workers' parent, not the driver) lives only
    while the driver or a worker holds its "alive" pipe, so it goes with them."""

    def __init__(self, workers: int, context):
        self._lifeline_read, self._lifeline = context.Pipe(duplex=False)
        # The reading end stays open here: workers are started as runs are submitted, and each
        # is sent a copy of it.
        super().__init__(max_workers=workers, mp_context=context, initializer=watch_driver,
                         initargs=(self._lifeline_read,))

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(guarded, fn, *args, **kwargs)

    def stop(self, wait: bool = True) -> None:
        """Stop now: the workers drop the runs in flight and exit; queued runs are cancelled."""
        self._lifeline.close()
        self.shutdown(wait=wait, cancel_futures=True)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:  # every worker has exited
            self._lifeline.close()
            self._lifeline_read.close()

    def __exit__(self, kind, error, tb):
        if kind is None:
            self.shutdown(wait=True)
        else:  # an error or an interrupt: nobody wants the runs in flight
            self.stop()
        return False


# A worker's state, guarded by a lock: is it inside a submitted function, and has its driver gone?
_worker_lock = threading.Lock()
_worker_state = {"computing": False, "driver_gone": False}
IDLE_GRACE = 1.0  # seconds a worker not computing waits, after its driver went, before exiting


def guarded(fn, /, *args, **kwargs):
    """Run `fn` in a worker, marked as computing. A worker whose driver has gone exits here
    instead of sending a result nobody will read."""
    with _worker_lock:
        if _worker_state["driver_gone"]:
            os._exit(1)
        _worker_state["computing"] = True
    try:
        return fn(*args, **kwargs)
    finally:
        with _worker_lock:
            _worker_state["computing"] = False
            if _worker_state["driver_gone"]:
                os._exit(1)


def watch_driver(lifeline) -> None:
    """Worker initializer: a thread that ends this process when the driver's end of the
    lifeline closes."""
    def watch() -> None:
        lifeline.poll(None)  # returns at EOF: the driver is gone (nothing is ever sent)
        with _worker_lock:
            _worker_state["driver_gone"] = True
            if _worker_state["computing"]:  # not sending a result: safe to go at once
                os._exit(1)
        # Between runs: sending a result, which a pool stopping on purpose still reads (cut
        # short, it would leave the pool waiting for the rest), or waiting for work that will
        # not come. `guarded` exits at the next run; this ends the wait.
        time.sleep(IDLE_GRACE)
        os._exit(1)

    threading.Thread(target=watch, name="watch-driver", daemon=True).start()


@contextmanager
def executor_for(workers: int | None = None, cluster: str | None = None):
    """(executor, parallel slots, a factory for a fresh executor after a broken pool)."""
    if cluster:
        with dask_client(cluster) as client:
            executor = client.get_executor()
            slots = max(1, sum(client.nthreads().values()))
            yield executor, slots, None
        return
    workers = default_workers() if workers is None else workers
    if workers == 0:
        yield InProcessExecutor(), 1, None
        return
    holder = [process_pool(workers)]

    def renew():
        holder[0].stop(wait=False)
        holder[0] = process_pool(workers)
        return holder[0]

    try:
        yield holder[0], workers, renew
    except BaseException:  # interrupted, or the results cannot be written: drop the runs in flight
        holder[0].stop()
        raise
    holder[0].shutdown(wait=True, cancel_futures=True)


@contextmanager
def dask_client(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise InputError(f"--cluster {address}: expected Dask distributed to be installed "
                         "(pip install \"dask[distributed]\")") from None
    try:
        probe(address)
        client = Client(address, timeout="30s")
    except (OSError, TimeoutError, ValueError) as e:
        raise InputError(f"--cluster {address}: cannot connect ({e}); expected the address of a "
                         "running Dask scheduler, e.g. tcp://10.0.0.5:8786") from None
    try:
        yield client
    finally:
        client.close()


def probe(address: str) -> None:
    """Fail at once, not after the client's timeout, when nothing listens at a tcp address."""
    if not address.startswith("tcp://"):
        return
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    if host and port.isdigit():
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---- the driver -----------------------------------------------------------------------------
class BatchError(Exception):
    """The batch cannot go on (e.g. worker processes die before finishing any run)."""


def execute(tasks: Iterable[Task], executor: Executor, window: int, on_result: Callable,
            worker: Callable | None = None, renew: Callable | None = None) -> None:
    """Submit tasks, at most `window` in flight, and hand each result to `on_result` as it comes.

    Tasks are pulled from `tasks` only as slots free up. A worker process that dies (a crash, the
    out-of-memory killer) breaks a local pool and every run in flight with it: the pool is
    renewed and those runs are tried again one at a time, so that a run whose worker dies again,
    alone, is the culprit and is recorded as failed; the others go on."""
    worker = worker or run_one
    pending: dict[Future, Task] = {}
    suspects: deque[Task] = deque()  # in flight when a pool broke: to be retried alone
    tried_alone: set[str] = set()
    source: Iterator[Task] = iter(tasks)
    state = {"executor": executor, "broken": None, "received": 0}

    def fill():
        while len(pending) < window and state["broken"] is None:
            if suspects:
                if pending:
                    return
                task = suspects.popleft()
                tried_alone.add(task.run_id)
            else:
                task = next(source, None)
                if task is None:
                    return
            try:
                pending[state["executor"].submit(worker, task)] = task
            except BrokenProcessPool as e:  # broke since the last wait: not this task's doing
                (suspects.appendleft if task.run_id in tried_alone else suspects.append)(task)
                tried_alone.discard(task.run_id)
                state["broken"] = e

    def renew_pool(lost: list[Task]) -> None:
        if renew is None:
            raise BatchError(f"a worker died and the executor cannot be renewed: {state['broken']}")
        for task in lost:
            if task.run_id in tried_alone:
                if not state["received"]:
                    raise BatchError("the worker processes die before finishing any run (see "
                                     f"the errors above): {state['broken']}")
                on_result(task, worker_failure(task, state["broken"], "its worker process died "
                                               "(twice, the second time running alone)"))
            else:
                suspects.append(task)
        state["executor"], state["broken"] = renew(), None

    try:
        fill()
        while pending or state["broken"] is not None:
            lost = []
            done = wait(pending, return_when=FIRST_COMPLETED)[0] if pending else set()
            for future in done:
                task = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool as e:
                    state["broken"] = e
                    lost.append(task)
                    continue
                except Exception as e:  # noqa: BLE001 — the worker, not the model, failed
                    result = worker_failure(task, e, "the worker failed")
                state["received"] += 1
                on_result(task, result)
            if state["broken"] is not None:
                lost += pending.values()  # the pool is gone, and every run in it
                pending.clear()
                renew_pool(lost)
            fill()
    except BaseException:
        for future in pending:
            future.cancel()
        raise


@dataclass
class BatchReport:
    folder: Path
    total: int  # runs in the experiment
    skipped: int  # finished before this batch
    ran: int = 0
    failed: list = field(default_factory=list)  # (run_id, error)
    seconds: float = 0.0
    entropy: int = 0
    slots: int = 0  # runs that can go on at once (workers, or the cluster's threads)

    @property
    def ok(self) -> bool:
        return not self.failed


def prepare(experiment: Experiment, out: Path | str) -> Store:
    """Fix the experiment's entropy (its seed, else the folder's, else fresh) and validate every
    config; nothing is written until everything is valid."""
    store = Store(out)
    if experiment.entropy is None or not experiment.configs:
        experiment.resolve(store.recorded_entropy() if experiment.seed is None else None)
    return store


def run_batch(experiment: Experiment, out: Path | str, *, workers: int | None = None,
              cluster: str | None = None, window: int | None = None, progress: bool | None = None,
              resume: bool = False, worker: Callable | None = None, stream=None,
              announce: Callable | None = None, executor: tuple | None = None) -> BatchReport:
    """Run every unfinished run of an experiment into the result folder `out`.

    In order: validate every config, connect to the executor, open (lock, check, tidy) the
    folder, then `announce(report)` (runs done before), submit and write as results come.
    `executor`: (executor, slots, renew) of `executor_for` already open, for a caller that runs
    several batches in a row (a search's rounds); else one is opened for this batch."""
    store = prepare(experiment, out)
    if resume and not store.exists():
        raise InputError(f"--resume: expected a result folder to resume at {store.folder}, but "
                         "there is none (leave out --resume to start the batch)")
    opened = nullcontext(executor) if executor else executor_for(workers, cluster)
    with opened as (executor, slots, renew):
        store.open(experiment)
        try:
            wanted = {t.run_id for t in experiment.tasks()}
            done = set(store.finished()) & wanted
            report = BatchReport(store.folder, experiment.n_runs, len(done),
                                 entropy=experiment.entropy, slots=slots)
            if announce:
                announce(report)
            todo = (t for t in experiment.tasks() if t.run_id not in done)
            start = time.perf_counter()
            with progress_bar(experiment, report, progress, stream) as bar:

                def on_result(task: Task, result: RunResult) -> None:
                    store.write(task, result)
                    report.ran += 1
                    if not result.ok:
                        report.failed.append((task.run_id, result.error))
                    bar.update(len(report.failed))

                in_process = isinstance(executor, InProcessExecutor)
                execute(todo, executor, window or (1 if in_process else 2 * slots), on_result,
                        worker, renew)
            report.seconds = time.perf_counter() - start
            return report
        finally:
            store.close()


class Bar:
    """tqdm, showing runs done of all, failures, rate and ETA."""

    def __init__(self, bar):
        self.bar = bar

    def update(self, failed: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{failed} failed", refresh=False)
            self.bar.update(1)


@contextmanager
def progress_bar(experiment: Experiment, report: BatchReport, show: bool | None, stream=None):
    stream = stream or sys.stderr
    if show is False:
        yield Bar(None)
        return
    from tqdm import tqdm

    bar = tqdm(total=report.total, initial=report.skipped, unit="run", desc=experiment.name,
               file=stream, disable=None if show is None else False, dynamic_ncols=True,
               smoothing=0.1, postfix="0 failed",
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} runs{postfix} "
                          "[{elapsed}<{remaining}, {rate_fmt}]")
    try:
        yield Bar(bar)
    finally:
        bar.close()
