"""Tests of a batch stopped the hard way (sim/batch): the driver killed with SIGKILL or stopped
with SIGTERM, the disk full or the folder turned read-only mid-batch, a folder cut short while
being made. No process of a batch outlives its driver by more than a few seconds, the exit code
says what happened, the finished runs are kept, and the same command then goes on to tables
identical to an uninterrupted batch's.

The processes of a batch are found through /proc (Linux): the driver's children (the forkserver,
the resource tracker) and grandchildren (the workers, forked by the forkserver), recorded before
the driver is stopped. A process that has exited but is not yet reaped (a zombie) counts as gone.
"""

import errno
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from sim.batch import cli, load, run_batch, run_one
from sim.batch import store as store_module
from sim.batch.store import MANIFEST
from sim.errors import CannotWrite, Terminated

from test_batch import SMALL, SWEEP, assert_same_tables, manifest, no_stray_files, reference_batch

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """The uninterrupted 2-worker batch of small.toml (shared with test_batch.py)."""
    return reference_batch(tmp_path_factory)


# ---- processes ------------------------------------------------------------------------------
def stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a process, or None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (command) "
    return int(fields[1]), fields[0], int(fields[19])


def descendants(root: int) -> dict[int, tuple[int, int]]:
    """Every living descendant of `root`: pid -> (parent pid, start time)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := stat(int(entry))) is not None:
            parents[int(entry)] = info
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, state, start) in parents.items():
            if ppid == parent and state not in "ZX" and pid not in found:
                found[pid] = (ppid, start)
                frontier.append(pid)
    return found


def living(processes: dict[int, tuple[int, int]]) -> list[int]:
    """Those still running (not gone, not a zombie, not a new process with a reused pid)."""
    alive = []
    for pid, (_, start) in processes.items():
        info = stat(pid)
        if info is not None and info[1] not in "ZX" and info[2] == start:
            alive.append(pid)
    return alive


def wait_until_gone(processes: dict, seconds: float) -> list[int]:
    """Wait up to `seconds` for the processes to end; those still running then."""
    deadline = time.monotonic() + seconds
    while (alive := living(processes)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def start_batch(experiment: Path, out: Path, *options: str) -> subprocess.Popen:
    """`python -m sim batch ...` in a session of its own (so that a failed test can clean up)."""
    cmd = [sys.executable, "-m", "sim", "batch", str(experiment), "--out", str(out),
           "--no-progress", *options]
    return subprocess.Popen(cmd, cwd=out.parent, start_new_session=True, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for_runs(proc: subprocess.Popen, out: Path, runs: int) -> None:
    deadline = time.monotonic() + 120
    while len(list((out / MANIFEST).glob("*.parquet"))) < runs:
        assert proc.poll() is None, f"the batch ended too soon: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no run finished in 2 minutes"
        time.sleep(0.005)


def kill_session(proc: subprocess.Popen) -> None:
    """Whatever is left of a batch started by start_batch (after a failed assertion)."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()


def longer(tmp_path: Path, days: int = 90) -> Path:
    """small.toml with longer runs, so that workers are surely mid-run when the driver goes."""
    path = tmp_path / "longer.toml"
    path.write_text(SMALL.read_text().replace("days = 30", f"days = {days}"))
    return path


# ---- the driver killed or stopped -----------------------------------------------------------
def test_workers_and_forkserver_exit_when_the_driver_is_killed(tmp_path):
    """kill -9 of the driver alone: its workers, the forkserver and the resource tracker are all
    gone within 10 s (without the workers' watch on the driver, they lived on for good)."""
    out = tmp_path / "longer"
    proc = start_batch(longer(tmp_path), out, "--workers", "2")
    try:
        wait_for_runs(proc, out, 1)
        family = descendants(proc.pid)
        workers = [pid for pid, (ppid, _) in family.items() if ppid != proc.pid]
        assert len(workers) == 2 and len(family) >= 4, family  # + forkserver, resource tracker
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        left = wait_until_gone(family, 10)
        assert not left, f"still running 10 s after the driver was killed: {left}"
        assert len(manifest(out)) < 12  # it was killed mid-way
    finally:
        kill_session(proc)


def test_sigterm_exits_143_stops_the_workers_and_resumes(tmp_path, reference):
    """SIGTERM to the driver mid-batch: the message of Ctrl-C, exit code 143, no process left;
    running again finishes the batch with the tables of an uninterrupted one."""
    out = tmp_path / "small"
    proc = start_batch(SMALL, out, "--workers", "2")
    try:
        wait_for_runs(proc, out, 2)
        family = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert f"interrupted: the finished runs are kept in {out}/" in err
        assert not wait_until_gone(family, 10)
    finally:
        kill_session(proc)
    finished = len(manifest(out))
    assert 2 <= finished < 12, "stopped mid-way"
    report = run_batch(load(SMALL), out, workers=2, progress=False)
    assert report.ok and report.skipped == finished and report.ran == 12 - finished
    assert_same_tables(out, reference[1])
    no_stray_files(out)


def sleepy_worker(task):
    """run_one, but every run except replication 0 of "uniform" first sleeps for a minute."""
    if not (task.config.variant == "uniform" and task.replication == 0):
        time.sleep(60)
    return run_one(task)


def failing_writes(monkeypatch, at: int, code: int) -> None:
    """The at-th file the store writes (the 1st is experiment.json, then each run's tables and
    manifest row) fails part-way with OSError(code), as on a full disk or a read-only folder."""
    original, calls = store_module.write_atomic, [0]

    def write_atomic(path, write):
        calls[0] += 1
        if calls[0] != at:
            return original(path, write)

        def torn(tmp):
            tmp.write_bytes(b"PAR1 half a file")
            raise OSError(code, os.strerror(code), str(tmp))

        return original(path, torn)

    monkeypatch.setattr(store_module, "write_atomic", write_atomic)


def test_a_batch_that_cannot_write_drops_the_runs_in_flight(tmp_path, monkeypatch):
    """The first result cannot be written while the workers are a minute into other runs: the
    batch stops at once, and its workers with it."""
    failing_writes(monkeypatch, 2, errno.ENOSPC)
    before = descendants(os.getpid())
    began = time.monotonic()
    with pytest.raises(CannotWrite, match="No space left on device"):
        run_batch(load(SMALL), tmp_path / "small", workers=2, progress=False,
                  worker=sleepy_worker)
    assert time.monotonic() - began < 30  # not waiting for the sleeping runs
    # Left: at most the forkserver and resource tracker (this process's, for later pools).
    new = {pid: info for pid, info in descendants(os.getpid()).items() if pid not in before}
    assert all(ppid == os.getpid() for ppid, _ in new.values()), new
    assert len(manifest(tmp_path / "small")) == 0


# ---- full disk, read-only folder ------------------------------------------------------------
@pytest.mark.parametrize("code, at, kept", [pytest.param(errno.ENOSPC, 15, 3, id="ENOSPC"),
                                             pytest.param(errno.EROFS, 21, 4, id="EROFS")])
def test_full_disk_or_read_only_folder_exits_3_and_resumes(tmp_path, reference, capsys,
                                                           monkeypatch, code, at, kept):
    """A write fails mid-batch (ENOSPC on run 4's communities table, EROFS on run 5's manifest
    row): one line, exit code 3, the finished runs kept; the same command then finishes the
    batch with the tables of an uninterrupted one."""
    out = tmp_path / "small"
    command = [str(SMALL), "--out", str(out), "--workers", "0", "--no-progress"]
    failing_writes(monkeypatch, at, code)
    assert cli.main(command) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"shequ: error: cannot write the results in {out}/")
    assert os.strerror(code) in err[0] and "run the same command again" in err[0]
    assert len(manifest(out)) == kept and set(manifest(out)["status"]) == {"ok"}
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # the torn file is gone
    monkeypatch.undo()
    assert cli.main(command) == 0
    assert f"{12 - kept} ok, 0 failed ({kept} were already done)" in capsys.readouterr().out
    assert_same_tables(out, reference[1])
    no_stray_files(out)


def test_a_folder_cut_short_while_being_made_is_taken_again(tmp_path, capsys, monkeypatch):
    """The disk is full when experiment.json is written: exit code 3 and a folder holding only
    the lock. With a temporary file a kill at that moment would also have left, the same command
    takes the folder again and finishes."""
    out = tmp_path / "sweep"
    command = [str(SWEEP), "--out", str(out), "--workers", "0", "--no-progress"]
    failing_writes(monkeypatch, 1, errno.ENOSPC)
    assert cli.main(command) == 3
    assert "No space left on device" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == [".lock"]
    monkeypatch.undo()
    (out / ".experiment.json.4242.tmp").write_text('{"half": ')
    assert cli.main(command) == 0
    assert "8 ok, 0 failed" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [".lock", "experiment.json", MANIFEST,
                                                     "summary"]
    no_stray_files(out)


# ---- on a Dask cluster ----------------------------------------------------------------------
def test_a_stopped_batch_leaves_the_cluster_up_and_idle(tmp_path, capsys, monkeypatch):
    """SIGTERM (Terminated) while runs are in flight on a cluster: exit code 143, the batch's
    runs are cancelled, the cluster's workers stay up, and the same command finishes there.
    (Identical tables on a cluster: test_batch.py.)"""
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "sweep"
    command = [str(SWEEP), "--out", str(out), "--no-progress"]
    write = store_module.Store.write

    def write_then_stop(self, task, result):
        write(self, task, result)
        raise Terminated()

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        monkeypatch.setattr(store_module.Store, "write", write_then_stop)
        assert cli.main([*command, "--cluster", cluster.scheduler_address]) == 143
        assert "interrupted" in capsys.readouterr().err
        assert len(manifest(out)) == 1
        deadline = time.monotonic() + 10
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
            assert time.monotonic() < deadline, "the stopped batch's runs are still scheduled"
            time.sleep(0.1)
        assert len(client.scheduler_info()["workers"]) == 2
        monkeypatch.undo()
        assert cli.main([*command, "--cluster", cluster.scheduler_address]) == 0
    assert "7 ok, 0 failed (1 were already done)" in capsys.readouterr().out
    assert len(manifest(out)) == 8 and set(manifest(out)["status"]) == {"ok"}
    no_stray_files(out)
