"""What every `shequ` command shares: the argument parser with one-line errors, the argument types,
and the output guard.

The guard's rule: no command deletes or overwrites what it did not write. Every folder or file a
command writes is recorded in a small hidden file, `.shequ.json`, in the folder that holds it (which
command, which files, and each file's SHA-256). Before any work starts, a command claims its
output:

- a folder (`shequ run --out`, `shequ report --out`, ...) may be new, empty, or hold exactly what
  the same command wrote there before (nothing else); it is never the current folder, one of its
  parents, the root or the home folder; a folder that another process is writing is refused;
- a file (`shequ animate --out FILM.gif`, `shequ compare --csv FILE`, ...) may be new, or one that
  a command wrote and nobody has changed since (its SHA-256 still matches).

Anything else is one clear `InputError` (exit code 2) before the work starts. Files are written to a
hidden temporary name and renamed into place, so a reader never sees half a file and a kill leaves
a folder that the same command claims again.
"""

import argparse
import contextlib
import hashlib
import json
import math
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from sim.errors import InputError, Terminated

MARKER = ".shequ.json"  # the record of what Shequ wrote in a folder
TMP_SUFFIX = ".tmp"


# ---- arguments ------------------------------------------------------------------------------
class Formatter(argparse.HelpFormatter):
    """argparse's help layout, but the examples (an epilog beginning "example") keep their lines
    as written."""

    def _fill_text(self, text, width, indent):
        if text.startswith("example"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def add_lang(parser, what: str) -> None:
    """`--lang en|zh`: the language of `what` (Chinese figures need a CJK font)."""
    parser.add_argument("--lang", choices=("en", "zh"), default="en",
                        help=f"language of {what} (default: en)")


def examples(*lines: str) -> dict:
    """The keywords that give a subcommand's help its examples: `add_parser(..., **examples(...))`."""
    head = "example:" if len(lines) == 1 else "examples:"
    return {"epilog": "\n".join([head, *(f"  {line}" for line in lines)]),
            "formatter_class": Formatter}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line like every other error, exit code 2, and an
    unknown argument is reported by the command it was given to, with what that command takes."""

    def error(self, message):
        message = " ".join(str(message).split())  # one line, whatever argparse says
        print(f"shequ: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            # argparse reports them from the top-level parser ("see shequ --help"): report them
            # from the subcommand that was given them, naming what it takes.
            self.chosen(parsed).unrecognized(extras)
        return parsed

    def chosen(self, parsed) -> "Parser":
        """The parser of the (sub)command that `parsed` ran: this one, or a subcommand's."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                sub = action.choices.get(getattr(parsed, action.dest, None) or "")
                if isinstance(sub, Parser):
                    return sub.chosen(parsed)
        return self

    def unrecognized(self, extras: list[str]) -> None:
        import difflib

        given = " ".join(short(e) for e in extras)
        options = [max(a.option_strings, key=len) for a in self._actions if a.option_strings
                   and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]
        commands = [name for a in self._actions if isinstance(a, argparse._SubParsersAction)
                    for name in a.choices]
        positional = [a.metavar or a.dest for a in self._actions if not a.option_strings
                      and not isinstance(a, argparse._SubParsersAction)]
        takes = ([f"a command ({', '.join(commands)})"] if commands else []) + (
            [f"the argument {' '.join(positional)}"] if positional else []) + (
            [f"the options {', '.join(options)}"] if options else [])
        wrong = next((e.split("=")[0] for e in extras if e.startswith("-")), None)
        close = difflib.get_close_matches(wrong, options, n=1, cutoff=0.75) if wrong else []
        hint = f"; did you mean {close[0]}?" if close else ""
        self.error(f"unrecognized arguments: {given}; expected only "
                   f"{' and '.join(takes) or 'no arguments'}{hint}")


def whole(text: str) -> int:
    """A whole number (any sign; the scenario or the command checks its range)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{short(text)}'") from None


def count(text: str) -> int:
    """A whole number >= 0."""
    value = whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got '{short(text)}'")
    return value


def number(text: str) -> float:
    """A finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{short(text)}'") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got '{short(text)}'")
    return value


def port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    value = whole(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got '{short(text)}'")
    return value


def path(text: str) -> Path:
    """A file or folder path; an empty one is an error (Path('') would be the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty one")
    return Path(text)


def short(text: str, limit: int = 40) -> str:
    """A value as the user typed it, cut short when it is very long (a 5,000-digit number)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


INTERRUPTED, TERMINATED = 130, 143  # exit codes after Ctrl-C (SIGINT) and SIGTERM


def one_line_errors(run: Callable[[], int]) -> int:
    """Run a command: bad input is one line on stderr and exit code 2 (3 when the output cannot be
    written); SIGTERM stops it as Ctrl-C does, with exit code 143 (130 for Ctrl-C)."""
    terminate_as_interrupt()
    try:
        return run()
    except InputError as e:
        print(f"shequ: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        print("\ninterrupted", file=sys.stderr)
        return TERMINATED if isinstance(e, Terminated) else INTERRUPTED
    except BrokenPipeError:  # `shequ scenarios | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def terminate_as_interrupt() -> None:
    """SIGTERM raises `Terminated` (a KeyboardInterrupt), so `finally` blocks and the commands'
    interrupt handling run as after Ctrl-C."""
    def handler(signum, frame):
        raise Terminated()

    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, handler)


# ---- the output guard -----------------------------------------------------------------------
def sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_marker(folder: Path) -> dict | None:
    """The folder's record of what Shequ wrote in it, or None (none, or unreadable)."""
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        return None
    return record


def write_marker(folder: Path, record: dict) -> None:
    text = json.dumps(record, indent=1, ensure_ascii=False, sort_keys=True)
    replace_atomically(folder / MARKER, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def temporary(target: Path) -> Path:
    """A hidden temporary name beside `target`, keeping its suffix for writers that read it."""
    return target.with_name(f".{target.stem}.{os.getpid()}{TMP_SUFFIX}{target.suffix}")


def replace_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """`write(tmp)` to a hidden temporary file beside `target`, then rename it into place."""
    tmp = temporary(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def is_temporary(name: str) -> bool:
    """A hidden temporary file of a write (`.name.PID.tmp`, or `.stem.PID.tmp.gif`)."""
    return name.startswith(".") and (name.endswith(TMP_SUFFIX) or f"{TMP_SUFFIX}." in name)


def contents(folder: Path) -> list[str]:
    """Every file under a folder (relative POSIX paths), except Shequ's record and its
    temporary files; a folder holding nothing counts as itself (`name/`)."""
    found = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        kept = [f for f in files if not (rel == Path(".") and f == MARKER) and not is_temporary(f)]
        found += [(rel / f).as_posix() for f in kept]
        if not dirs and not files and rel != Path("."):
            found.append(rel.as_posix() + "/")
    return sorted(found)


def forbidden(target: Path) -> str | None:
    """Why a folder may never be an output folder: the current folder, one of its parents, the
    root, the home folder."""
    where = target.resolve()
    if where == Path(where.anchor):
        return "the root folder"
    if where == Path.home().resolve():
        return "the home folder"
    cwd = Path.cwd().resolve()
    if where == cwd:
        return "the current folder"
    if where in cwd.parents:
        return "a parent of the current folder"
    return None


def writable_parent(target: Path, flag: str) -> None:
    """The nearest existing parent of `target` is a folder we may write in."""
    parent = next((p for p in target.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise InputError(f"{flag} {target}: expected a path in a folder, but {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {target}: expected a writable folder, but {parent} is not "
                         "writable")


def is_locked(folder: Path) -> bool:
    """Is another process writing this folder (holding its lock)?"""
    try:
        import fcntl
    except ImportError:  # no advisory locks (Windows)
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we took
    return False


def check_folder(target: Path, command: str, flag: str = "--out",
                 recognise: Callable[[Path], dict | None] | None = None) -> None:
    """May `command` write its output folder `target`? Raises InputError if not (see the module
    docstring). `recognise(folder)` may vouch for a folder written before folders had a record,
    returning the record it would have had."""
    if str(target).strip() == "":
        raise InputError(f"{flag}: expected a folder name, got an empty one")
    if (why := forbidden(target)) is not None:
        raise InputError(f"{flag} {target}: expected a folder of its own for the output, but "
                         f"this is {why}; give a new folder, e.g. {flag} output/my-run")
    if target.exists() and not target.is_dir():
        raise InputError(f"{flag} {target}: expected a folder, but it is a file")
    if not target.exists():
        writable_parent(target, flag)
        return
    present = contents(target)
    record = read_marker(target) or (recognise(target) if recognise else None)
    if present and (record is None or record.get("command") != command):
        if (target / "experiment.json").is_file():
            raise InputError(f"{flag} {target}: expected a new folder, but it holds a batch's "
                             "results (experiment.json); give another folder")
        whose = "Shequ did not write" if record is None else "another command wrote"
        raise InputError(f"{flag} {target}: expected a new or empty folder, or one that `shequ "
                         f"{command}` wrote, but it holds files {whose} ({listing(present)}); "
                         "give another folder")
    strangers = [f for f in present if f not in record["files"]] if present else []
    if strangers:
        raise InputError(f"{flag} {target}: expected only what `shequ {command}` wrote there, "
                         f"but it also holds {listing(strangers)}; move those away or give "
                         "another folder")
    if not os.access(target, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {target}: expected a writable folder, but it is not writable")
    if is_locked(target):
        raise InputError(f"{flag} {target}: another Shequ process is writing this folder; "
                         "expected a folder of its own for each command at a time")


def check_results(target: Path, flag: str = "--out") -> None:
    """May a batch write its result folder `target`? New, empty, or a batch's (experiment.json);
    the result store checks that it is this experiment's when it opens the folder."""
    if str(target).strip() == "":
        raise InputError(f"{flag}: expected a folder name, got an empty one")
    if (why := forbidden(target)) is not None:
        raise InputError(f"{flag} {target}: expected a folder of its own for the results, but "
                         f"this is {why}; give a new folder, e.g. {flag} results/my-batch")
    if target.exists() and not target.is_dir():
        raise InputError(f"{flag} {target}: expected a folder, but it is a file")
    if not target.exists():
        writable_parent(target, flag)
        return
    # A batch killed while making its folder leaves only its lock (and temporary files).
    present = [f for f in contents(target) if f != ".lock"]
    if present and not (target / "experiment.json").is_file():
        raise InputError(f"{flag} {target}: expected a new or empty folder or the results of a "
                         f"batch, but it holds other files ({listing(present)}); give another "
                         "folder")


def check_file(target: Path, flag: str) -> None:
    """May a command write the file `target`? New, or written by Shequ and unchanged since."""
    if str(target).strip() == "":
        raise InputError(f"{flag}: expected a file name, got an empty one")
    if target.is_dir():
        raise InputError(f"{flag} {target}: expected a file name, but it is a folder")
    if target.exists():
        record = read_marker(target.parent) or {"files": {}}
        entry = record["files"].get(target.name)
        if not isinstance(entry, dict) or entry.get("sha256") != sha256(target):
            raise InputError(f"{flag} {target}: expected a new file, but it exists and Shequ did "
                             "not write it (or it was changed since); give another name or move "
                             "it away")
        if not os.access(target.parent, os.W_OK | os.X_OK):
            raise InputError(f"{flag} {target}: expected a writable folder, but {target.parent} "
                             "is not writable")
        return
    writable_parent(target, flag)


def listing(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


class OutputFolder:
    """A claimed output folder, written file by file:

        with OutputFolder(out, "run") as folder:
            folder.write("summary.parquet", lambda tmp: table.to_parquet(tmp))

    On entering: the claim is checked again, the folder made (with the user's normal
    permissions) and locked. Each file goes to a temporary name and is renamed into place; the
    record names it before it appears, so a kill at any moment leaves a folder that the same
    command claims again. On a clean exit, files of the previous output that were not written
    again are removed, so the folder holds exactly this output."""

    def __init__(self, target: Path | str, command: str, flag: str = "--out",
                 recognise: Callable[[Path], dict | None] | None = None):
        self.path, self.command, self.flag = Path(target), command, flag
        self.recognise = recognise
        self.written: dict[str, dict] = {}
        self.lock_fd: int | None = None

    def __enter__(self) -> "OutputFolder":
        check_folder(self.path, self.command, self.flag, self.recognise)
        # The top-most folder this claim makes (None: it exists), removed again if nothing is written.
        missing = [p for p in (self.path.absolute(), *self.path.absolute().parents) if not p.exists()]
        self.created = missing[-1] if missing else None
        self.path.mkdir(parents=True, exist_ok=True)
        self.lock()
        self.previous = (read_marker(self.path) or (self.recognise(self.path) if self.recognise
                                                     else None) or {"files": {}})["files"]
        self.save_record(complete=False)
        return self

    def lock(self) -> None:
        try:
            import fcntl
        except ImportError:
            return
        self.lock_fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.lock_fd)
            self.lock_fd = None
            raise InputError(f"{self.flag} {self.path}: another Shequ process is writing this "
                             "folder; expected a folder of its own for each command at a time") \
                from None

    def save_record(self, complete: bool) -> None:
        files = dict(self.written) if complete else {**self.previous, **self.written}
        write_marker(self.path, {"command": self.command, "complete": complete, "files": files})

    def file(self, name: str) -> Path:
        """Where `name` (a relative path) goes; recorded as written by this command."""
        self.written[name] = {"sha256": None}
        self.save_record(complete=False)
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, name: str, write: Callable[[Path], object]) -> Path:
        """Write one file atomically: `write(tmp_path)`, then renamed into place."""
        target = self.file(name)
        replace_atomically(target, write)
        self.written[name] = {"sha256": sha256(target)}
        return target

    def write_text(self, name: str, text: str) -> Path:
        return self.write(name, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def write_bytes(self, name: str, data: bytes) -> Path:
        return self.write(name, lambda tmp: tmp.write_bytes(data))

    def __exit__(self, kind, error, tb) -> None:
        try:
            if kind is None:
                for name in set(self.previous) - set(self.written):
                    stale = self.path / name
                    if stale.is_file():
                        stale.unlink()
                    with contextlib.suppress(OSError):  # a sub-folder left empty
                        if stale.parent != self.path and not any(stale.parent.iterdir()):
                            stale.parent.rmdir()
                self.save_record(complete=True)
            elif self.created is not None and not self.written:  # failed before writing
                (self.path / MARKER).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    for folder in (self.path.absolute(), *self.path.absolute().parents):
                        folder.rmdir()  # empty folders this claim made, and no further
                        if folder == self.created:
                            break
        finally:
            if self.lock_fd is not None:
                os.close(self.lock_fd)
                self.lock_fd = None


def claimed(out, command: str, **options) -> contextlib.AbstractContextManager:
    """An output folder for a function that writes one: an `OutputFolder` already claimed is
    used as it is; a path is claimed now (for callers from Python)."""
    if isinstance(out, OutputFolder):
        return contextlib.nullcontext(out)
    return OutputFolder(out, command, **options)


@contextlib.contextmanager
def output_file(target: Path | str, flag: str) -> Iterator[Path]:
    """Write one claimed file: yields a temporary path to write; on success it is renamed into
    place and recorded in its folder's `.shequ.json` as Shequ's."""
    target = Path(target)
    check_file(target, flag)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary(target)
    try:
        yield tmp
        os.replace(tmp, target)
        record_file(target)
    finally:
        if tmp.exists():
            tmp.unlink()


def record_file(target: Path) -> None:
    """Note in the folder's record that Shequ wrote `target` (as it is now)."""
    folder = target.parent
    record = read_marker(folder) or {"command": None, "files": {}}
    record["files"][target.name] = {"sha256": sha256(target)}
    write_marker(folder, record)
