"""The result store: one folder per experiment, written run by run as each run ends.

    results/<experiment>/
        experiment.json               the experiment: file and text, entropy, every config's parameters
        manifest/<run_id>.parquet     one row per finished run: ids, seed, entropy, status, error,
                                      traceback, seconds, host, versions; written last, it marks
                                      the run complete
        summary/<run_id>.parquet      the run's tables, every row carrying the run's identifying
        communities/<run_id>.parquet  columns (experiment, variant, scenario, point, swept values,
        daily/<run_id>.parquet        replication, seed, run_id), so a glob read is one tidy table
        .lock                         held while a batch writes (released by the kernel on a kill)

Every file is written to a hidden temporary file in its own folder, fsynced and renamed into place
(`os.replace`), so a reader — pandas, polars, DuckDB — never sees half a file, and a kill at any
moment loses no finished run. On opening, leftover temporary files and tables of a run without a
manifest row are removed, as are the manifest rows of runs whose tables are missing or damaged;
those runs are done again (their tables come out identical). A full disk or a read-only folder
raises `CannotWrite` (exit code 3): the finished runs are kept, and the same command goes on.
"""

import contextlib
import datetime
import errno
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.experiment import (
    TABLES, Config, Experiment, Task, param_default, replication_seed, run_id,
)
from sim.errors import CannotWrite, InputError
from sim.scenario import Scenario, shown

MANIFEST = "manifest"
LAYOUT = ("experiment.json: the experiment; manifest/<run_id>.parquet: one row per finished run "
          "(status ok or failed); <table>/<run_id>.parquet: the run's rows of that table, each "
          "with the run's identifying columns")
TMP_SUFFIX = ".tmp"
# OSErrors that mean "not now": the disk (or the user's quota) is full, or the folder read-only.
CANNOT_WRITE = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


# ---- identifying columns --------------------------------------------------------------------
def arrow_type(value: Any) -> pa.DataType:
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    return pa.string()


def identity(task: Task) -> list[tuple[str, pa.DataType, Any]]:
    """The columns that say which run a row comes from: (name, type, value)."""
    sweep = [(key, arrow_type(param_default(key)), value)
             for key, value in zip(task.keys, task.config.values)]
    return [("experiment", pa.string(), task.experiment),
            ("variant", pa.string(), task.config.variant),
            ("scenario", pa.string(), task.config.scenario.name),
            ("point", pa.int64(), task.config.point),
            *sweep,
            ("replication", pa.int64(), task.replication),
            ("seed", pa.int64(), task.seed),
            ("run_id", pa.string(), task.run_id)]


def with_identity(task: Task, table: pa.Table) -> pa.Table:
    """The table with the run's identifying columns in front."""
    n = table.num_rows
    for i, (name, type_, value) in enumerate(identity(task)):
        table = table.add_column(i, pa.field(name, type_), pa.array([value] * n, type_))
    return table


MANIFEST_FIELDS = [
    ("entropy", pa.string()), ("status", pa.string()), ("error", pa.string()),
    ("traceback", pa.string()), ("seconds", pa.float64()),
    ("started", pa.timestamp("ms", tz="UTC")), ("finished", pa.timestamp("ms", tz="UTC")),
    ("host", pa.string()), ("pid", pa.int64()), ("tables", pa.string()),
    ("shequ_version", pa.string()), ("mesa_version", pa.string()),
]


def manifest_row(task: Task, result) -> pa.Table:
    """The run's manifest row, with a fixed schema (an ok row's empty error is a null string)."""
    values = {"entropy": str(task.entropy), "status": "ok" if result.ok else "failed",
              "error": result.error, "traceback": result.traceback, "seconds": result.seconds,
              "started": utc(result.started), "finished": utc(result.finished),
              "host": result.host, "pid": result.pid,
              "tables": ",".join(result.tables) if result.ok else "",
              "shequ_version": result.versions.get("shequ"),
              "mesa_version": result.versions.get("mesa")}
    fields = [(n, t, v) for n, t, v in identity(task)] + [(n, t, values[n])
                                                         for n, t in MANIFEST_FIELDS]
    return pa.table({n: pa.array([v], t) for n, t, v in fields},
                    schema=pa.schema([pa.field(n, t) for n, t, _ in fields]))


def utc(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)


# ---- atomic files ---------------------------------------------------------------------------
def write_atomic(path: Path, write) -> None:
    """`write(tmp_path)`, fsync, rename over `path`, fsync the folder: all or nothing."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # read-only now? the next open removes it
            tmp.unlink(missing_ok=True)
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def cannot_write(folder: Path):
    """A full disk or a read-only folder becomes one clear CannotWrite (exit code 3)."""
    try:
        yield
    except OSError as e:
        if e.errno not in CANNOT_WRITE:
            raise
        raise CannotWrite(f"cannot write the results in {folder}/ ({os.strerror(e.errno)}); the "
                          "finished runs are kept: free some space or make the folder writable, "
                          "then run the same command again to go on") from e


def write_parquet(path: Path, table: pa.Table) -> None:
    write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def write_json(path: Path, obj: Any) -> None:
    text = json.dumps(obj, indent=1, ensure_ascii=False, default=str)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# ---- the store ------------------------------------------------------------------------------
class Store:
    """An experiment's result folder. `open` takes the lock, checks that the folder holds this
    experiment (or nothing), records it and tidies up; `write` saves one run."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.lock_file = None
        self._statuses: dict[str, str] | None = None  # cached while the store is open

    @property
    def record_path(self) -> Path:
        return self.folder / "experiment.json"

    def exists(self) -> bool:
        return self.record_path.is_file()

    def record(self) -> dict | None:
        """experiment.json, or None when the folder holds no experiment yet."""
        if not self.exists():
            return None
        try:
            return json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"{self.record_path}: cannot read ({e}); expected the record of an "
                             "experiment written by `shequ batch`") from None

    def recorded_entropy(self) -> int | None:
        record = self.record()
        return int(record["entropy"]) if record else None

    # -- opening --
    def open(self, experiment: Experiment) -> None:
        from sim.command import contents

        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"--out {self.folder}: expected a folder, but it is a file")
        # A batch stopped while making the folder leaves only its lock and temporary files.
        if (self.folder.is_dir() and not self.exists()
                and [f for f in contents(self.folder) if f != ".lock"]):
            raise InputError(f"--out {self.folder}: expected an empty folder or the results of a "
                             "batch, but it holds other files (no experiment.json)")
        with cannot_write(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
            self.lock()
        try:
            with cannot_write(self.folder):
                record = self.merge(self.record(), experiment)
                # experiment.json before the sub-folders: a folder cut short before it holds
                # nothing but the lock and temporary files, which the same command takes again.
                write_json(self.record_path, record)
                for name in (MANIFEST, *experiment.keep):
                    (self.folder / name).mkdir(exist_ok=True)
                self.tidy()
        except BaseException:
            self.close()
            raise

    def lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # no advisory locks (Windows): one batch per folder is on the user
            return
        self.lock_file = open(self.folder / ".lock", "a+")  # noqa: SIM115 — held until close
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.lock_file.close()
            self.lock_file = None
            raise InputError(f"--out {self.folder}: another batch is writing this folder; "
                             "expected one batch per result folder at a time") from None
        self.lock_file.seek(0)
        self.lock_file.truncate()
        self.lock_file.write(f"{socket.gethostname()} {os.getpid()}\n")
        self.lock_file.flush()

    def close(self) -> None:
        self._statuses = None
        if self.lock_file is not None:
            self.lock_file.close()  # releases the flock
            self.lock_file = None

    def merge(self, old: dict | None, experiment: Experiment) -> dict:
        """This experiment's record, after checking that the folder's runs belong to it: the same
        name, entropy and kept tables, and every config the folder knows unchanged. More
        replications or more variants are fine; the record keeps every config ever run."""
        new = experiment_record(experiment)
        if old is None:
            return new
        where = f"{self.folder}"
        fix = f"; use --out for a new folder, or remove {self.folder} to start again"
        if old.get("experiment") != new["experiment"]:
            raise InputError(f"--out {where}: expected the results of experiment "
                             f"\"{new['experiment']}\", but the folder holds \"{old.get('experiment')}\""
                             + fix)
        if old.get("model") != new["model"]:
            made = (f"model version {old['model']}" if old.get("model") else
                    "a model from before versions were recorded")
            raise InputError(f"--out {where}: expected runs of this Shequ's model (version "
                             f"{new['model']}), but the folder's runs were made by {made}, whose "
                             "results differ" + fix)
        if int(old["entropy"]) != int(new["entropy"]):
            raise InputError(f"--out {where}: expected results made with seed {new['entropy']}, "
                             f"but the folder's runs were made with seed {old['entropy']}" + fix)
        if list(old["keep"]) != list(new["keep"]):
            raise InputError(f"--out {where}: expected results keeping {', '.join(new['keep'])}, "
                             f"but the folder's runs keep {', '.join(old['keep'])}" + fix)
        if old.get("sweep_keys", []) != new["sweep_keys"]:
            raise InputError(f"--out {where}: expected results sweeping "
                             f"{', '.join(new['sweep_keys']) or 'nothing'}, but the folder's runs "
                             f"sweep {', '.join(old.get('sweep_keys', [])) or 'nothing'}" + fix)
        for key, config in new["configs"].items():
            if key in old["configs"] and old["configs"][key]["hash"] != config["hash"]:
                raise InputError(f"--out {where}: expected the same settings for the runs already "
                                 f"done, but {describe_change(key, old['configs'][key], config)}"
                                 + fix)
        merged = dict(new)
        merged["configs"] = old["configs"] | new["configs"]
        merged["replications"] = max(int(old["replications"]), int(new["replications"]))
        merged["created"] = old.get("created", new["created"])
        return merged

    def whole_runs(self) -> set[str]:
        """Runs whose manifest row says ok and whose tables are whole, without tidying first (a
        run whose tables were lost or damaged since is not done: the batch does it again)."""
        return {run for run, (status, tables) in self.manifest().items()
                if status == "ok" and self.whole(run, tables)}

    def tidy(self) -> None:
        """Remove temporary files a killed batch left, damaged manifest rows, the rows of ok
        runs whose tables are missing or damaged, and tables of runs with no manifest row
        saying ok: those runs are done again."""
        for path in self.folder.glob(f".{self.record_path.name}.*{TMP_SUFFIX}"):
            path.unlink()
        rows = self.manifest()
        for run, (status, tables) in list(rows.items()):
            if status == "unreadable" or (status == "ok" and not self.whole(run, tables)):
                (self.folder / MANIFEST / f"{run}.parquet").unlink(missing_ok=True)
                del rows[run]
        ok = {r for r, (status, _) in rows.items() if status == "ok"}
        for sub in (MANIFEST, *TABLES):
            folder = self.folder / sub
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.startswith(".") and path.name.endswith(TMP_SUFFIX):
                    path.unlink()
                elif sub != MANIFEST and path.suffix == ".parquet" and path.stem not in ok:
                    path.unlink()
        self._statuses = {r: status for r, (status, _) in rows.items()}

    def whole(self, run: str, tables: str | None) -> bool:
        """Are the tables an ok run's manifest row lists all there and readable? Only each
        file's footer is read: a missing, cut or overwritten file fails, and opening stays
        quick."""
        for name in filter(None, (tables or "").split(",")):
            try:
                pq.read_metadata(self.folder / name / f"{run}.parquet")
            except (pa.ArrowInvalid, OSError):
                return False
        return True

    # -- reading --
    def statuses(self, refresh: bool = False) -> dict[str, str]:
        """run_id -> "ok" or "failed", from the manifest rows ("unreadable" for a damaged one;
        atomic writes make that a disk's doing). Read once when the store is opened."""
        if self._statuses is not None and not refresh:
            return self._statuses
        out = {run: status for run, (status, _) in self.manifest().items()}
        if self.lock_file is not None:
            self._statuses = out
        return out

    def manifest(self) -> dict[str, tuple[str, str | None]]:
        """run_id -> (status, the tables the run wrote, comma-separated), from the manifest
        rows; ("unreadable", None) for a row that cannot be read."""
        folder = self.folder / MANIFEST
        columns = ["run_id", "status", "tables"]
        out: dict[str, tuple[str, str | None]] = {}
        if not folder.is_dir():
            return out
        try:
            import pyarrow.dataset as ds

            table = ds.dataset(folder, format="parquet").to_table(columns=columns)
            return dict(zip(table["run_id"].to_pylist(),
                            zip(table["status"].to_pylist(), table["tables"].to_pylist())))
        except (pa.ArrowInvalid, OSError):
            for path in sorted(folder.glob("*.parquet")):
                try:
                    row = pq.read_table(path, columns=columns).to_pylist()[0]
                    out[row["run_id"]] = (row["status"], row["tables"])
                except (pa.ArrowInvalid, OSError, IndexError):
                    out[path.stem] = ("unreadable", None)
        return out

    def finished(self) -> list[str]:
        return [r for r, status in self.statuses().items() if status == "ok"]

    # -- writing --
    def write(self, task: Task, result) -> None:
        """Save one run: its tables, then its manifest row (the mark of completion)."""
        with cannot_write(self.folder):
            if result.ok:
                for name, table in result.tables.items():
                    write_parquet(self.folder / name / f"{task.run_id}.parquet", table)
            write_parquet(self.folder / MANIFEST / f"{task.run_id}.parquet",
                          manifest_row(task, result))
        if self._statuses is not None:
            self._statuses[task.run_id] = "ok" if result.ok else "failed"


def experiment_record(experiment: Experiment) -> dict:
    import mesa
    import numpy as np

    import sim

    keys = list(experiment.keys)
    fingerprint = experiment.fingerprint()
    sweep = experiment.sweep
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return {
        "experiment": experiment.name, "description": experiment.description,
        "model": sim.MODEL_VERSION,
        "file": str(Path(experiment.path).resolve()), "text": experiment.text,
        "entropy": int(experiment.entropy), "replications": experiment.replications,
        "keep": list(experiment.keep), "days": experiment.days, "scale": experiment.scale,
        "sweep_keys": keys,
        "sweep": None if sweep is None else {
            "design": sweep.design, "values": sweep.values,
            "ranges": {k: list(v) for k, v in sweep.ranges.items()},
            "samples": sweep.samples, "seed": sweep.seed},
        "configs": {c.key: c.record(experiment.keys) | {"hash": fingerprint[c.key]}
                    for c in experiment.configs},
        "seeds": "replication r runs with seed int(SeedSequence(entropy, spawn_key=(r,))"
                 ".generate_state(1, uint64)[0] >> 1), the same for every variant and point; "
                 "a config with its own list of seeds runs replication r with seeds[r]",
        "layout": LAYOUT,
        "versions": {"shequ": sim.__version__, "mesa": mesa.__version__, "numpy": np.__version__,
                     "pyarrow": pa.__version__, "python": sys.version.split()[0]},
        "created": now, "updated": now,
    }


def describe_change(key: str, old: dict, new: dict) -> str:
    """The first difference between two configs' records, in words."""
    label = f"variant \"{new['variant']}\" point {new['point']}"
    for name in ("values", "params"):
        for path, a, b in differences(old[name], new[name]):
            return f"{label} had {path} = {shown(a)} and now has {shown(b)}"
    if old.get("city_csv_sha256") != new.get("city_csv_sha256"):
        was, now = (str(r.get("city_csv_sha256"))[:12] for r in (old, new))
        return (f"{label}'s CSV city {new['params']['city']['source']} has changed since "
                f"(SHA-256 {was}… now {now}…)")
    return f"{label} differs (the seed or the tables kept)"


def differences(a: Any, b: Any, prefix: str = ""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from differences(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else k)
    elif a != b:
        yield prefix, a, b


# ---- reading results ------------------------------------------------------------------------
def read(folder: Path | str, table: str = "summary", finished_only: bool = True):
    """One kept table of an experiment's folder as a pandas DataFrame: every finished run's rows,
    ordered by run id (variant, point, replication). Readable while a batch is still running."""
    import pandas as pd

    store = Store(folder)
    if table == MANIFEST:
        return read_parts(store.folder / MANIFEST)
    ok = set(store.finished())
    frame = read_parts(store.folder / table)
    if finished_only and len(frame):
        frame = frame[frame["run_id"].isin(ok)].reset_index(drop=True)
    return frame if len(frame) else pd.DataFrame()


def read_parts(folder: Path):
    import pandas as pd

    paths = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not paths:
        return pd.DataFrame()
    return pa.concat_tables([pq.read_table(p) for p in paths],
                            promote_options="default").to_pandas()


def config_task(record: dict, run: str) -> Task:
    """The task of any run of a folder's experiment, rebuilt from experiment.json alone."""
    prefix, _, rep = run.rpartition(".r")
    if prefix not in record["configs"] or not rep.isdigit():
        raise InputError(f"{run}: expected a run id of this experiment, like "
                         f"{next(iter(record['configs']))}.r00000")
    c = record["configs"][prefix]
    scenario = Scenario(c["scenario"], c["params"], None, "", list(c["files"]))
    scenario = scenario.with_overrides({}, origin=f"experiment.json ({prefix})")
    expected = c.get("city_csv_sha256")
    if expected and scenario.city_sha256 != expected:
        raise InputError(f"{scenario['city']['source']}: expected the CSV city this folder's runs "
                         f"were made with (SHA-256 {expected[:12]}…), but the file has changed "
                         "since")
    keys = tuple(record["sweep_keys"])
    config = Config(c["variant"], int(c["point"]), tuple(c["values"][k] for k in keys), scenario,
                    prefix)
    entropy = int(record["entropy"])
    replication = int(rep)
    seeds = c.get("seeds")
    if seeds is not None and replication >= len(seeds):
        raise InputError(f"{run}: expected a replication below {len(seeds)}, the seeds listed")
    seed = int(seeds[replication]) if seeds is not None else replication_seed(entropy, replication)
    return Task(run_id(prefix, replication), record["experiment"], config, keys, replication,
                seed, entropy, tuple(record["keep"]))
