"""Scenario files: one policy world each, TOML, validated key by key against `sim.parameters`.

A scenario may `extends = "other.toml"` (relative to the extending file) and override a few keys.
Every error names the file, the key and what was expected, and raises `InputError`.

A scenario whose `city.source` is a CSV file carries the file's text (`Scenario.city_csv`), read
once when it is loaded: a run built from the scenario, on this machine or on a cluster's worker,
uses that text and never looks for the file.
"""

import copy
import itertools
import numbers
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.parameters import SCHEMA, TOP_LEVEL, Param, defaults
from sim.shipped import folder as shipped_folder

SCENARIO_DIR = shipped_folder("scenarios")
DEFAULT_SCENARIO = "xining-classified"
MAX_EXTENDS = 50  # files in one chain of `extends`: far more than anyone writes, and no recursion
SHOWN_LIMIT = 100  # characters of a value quoted in an error message, so that it stays one line


@dataclass
class Scenario:
    """A validated policy world: `params[section][key]`, every key present."""

    name: str
    params: dict[str, dict[str, Any]]
    path: Path | None = None
    description: str = ""
    files: list[str] = field(default_factory=list)  # the file and the files it extends
    # The text of the CSV named by city.source (None for the synthetic city, or when the
    # scenario was made from parameters alone: then the model reads the file).
    city_csv: str | None = field(default=None, repr=False)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.params[section]

    @property
    def city_sha256(self) -> str | None:
        """The SHA-256 of the CSV city's text (as `sha256sum` gives for the file), or None."""
        from sim.city import text_sha256

        return None if self.city_csv is None else text_sha256(self.city_csv)

    def with_overrides(self, overrides: dict[str, dict[str, Any]], origin: str = "command line",
                       folder: Path | None = None):
        """A copy with some values replaced, validated like a file's (named `origin` in errors).
        A new `city.source` CSV is relative to `folder` (default: the working folder)."""
        checked = check_tree(overrides, origin)
        source = checked.get("city", {}).get("source")
        if source is not None and source != "synthetic":
            checked["city"]["source"] = str(csv_path(source, folder or Path.cwd(), origin))
        params = merge(copy.deepcopy(self.params), checked)
        check_world(params, origin)
        text = self.city_csv if params["city"]["source"] == self.params["city"]["source"] else None
        return Scenario(self.name, params, self.path, self.description, list(self.files),
                        text if text is not None else city_text(params))


def resolve_path(name_or_path: str | Path) -> Path:
    """A scenario by path, or by name from the shipped `scenarios/` folder."""
    return find_toml(name_or_path, SCENARIO_DIR, "scenario")


def find_toml(name_or_path: str | Path, folder: Path, what: str) -> Path:
    """A .toml file by path, or by name from a shipped folder; else a clear error."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not is_file(path):
        path = folder / f"{name_or_path}.toml"
    if not is_file(path):
        names = ", ".join(shipped(folder)) or f"the files in {folder.name}/"
        raise InputError(f"{shown_path(name_or_path)}: no such {what} file (expected a .toml "
                         f"path or one of {names})")
    return path


def is_file(path: Path) -> bool:
    """Is `path` a file? False, not an error, for a name no file can have (too long, a NUL)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def shown_path(path) -> str:
    """A path as quoted in an error: control characters escaped, cut in the middle if long."""
    text = toml_string(str(path))[1:-1]
    return text if len(text) <= 200 else f"{text[:60]}...{text[-137:]}"


def shipped(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml"))


def shipped_scenarios() -> list[str]:
    return shipped(SCENARIO_DIR)


def load(name_or_path: str | Path | None = None) -> Scenario:
    """Load, follow `extends`, validate and fill defaults."""
    path = resolve_path(name_or_path or DEFAULT_SCENARIO)
    raw, files = read_chain(path, [])
    params = merge(defaults(), {k: v for k, v in raw.items() if k in SCHEMA})
    check_world(params, str(path))
    name = raw.get("name") or path.stem
    return Scenario(name, params, path, raw.get("description", ""), files, city_text(params))


def csv_path(source: str, folder: Path, origin: str) -> Path:
    """A CSV city's file, as an absolute path: a relative one belongs to `folder` (the scenario
    file's), never to the working folder, so a batch resumes or re-runs from anywhere."""
    csv = folder / source
    if not is_file(csv):
        raise InputError(f"{origin}: key \"city.source\": expected \"synthetic\" or an existing "
                         f"CSV file, got {shown(source)} (looked for {shown_path(csv)})")
    return csv.resolve()


def city_text(params: dict) -> str | None:
    """The text of the scenario's CSV city (read with the size bounds of sim.city), or None."""
    from sim.city import read_csv_text

    source = params["city"]["source"]
    return None if source == "synthetic" else read_csv_text(source)


def read_chain(path: Path, seen: list[str]) -> tuple[dict, list[str]]:
    """Read a file and, depth first, the files it extends; later files override earlier ones."""
    key = str(path.resolve())
    if key in seen:
        chain = " -> ".join(Path(s).name for s in seen[seen.index(key):] + [key])
        raise InputError(f"{path}: key \"extends\": expected no cycle, but {path.name} extends "
                         f"itself: {chain}")
    if len(seen) >= MAX_EXTENDS:
        raise InputError(f"{seen[0]}: key \"extends\": expected a chain of at most {MAX_EXTENDS} "
                         f"scenario files, got a longer one (file {MAX_EXTENDS + 1} is {path})")
    raw = check_tree(read_toml(path), str(path))
    source = raw.get("city", {}).get("source", "synthetic")
    if source != "synthetic":
        raw["city"]["source"] = str(csv_path(source, path.parent, str(path)))
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, [key]
    parent_path = path.parent / parent
    if not is_file(parent_path):
        raise InputError(f"{path}: key \"extends\": expected an existing scenario file, "
                         f"got {shown(parent)} (looked for {shown_path(parent_path)})")
    base, files = read_chain(parent_path, seen + [key])
    base.pop("name", None)
    base.pop("description", None)
    return merge(base, raw), [key] + files


def read_toml(path: Path) -> dict:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: not UTF-8 text (byte 0x{e.object[e.start]:02x}); "
                         "expected a UTF-8 TOML file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror}); expected a readable TOML file") \
            from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        raise InputError(f"{path}: not valid TOML: {msg[:1].lower() + msg[1:]}; expected TOML "
                         "syntax (key = value lines under [section] headers)") from None
    except RecursionError:  # tomllib recurses into each nested array and inline table
        raise InputError(f"{path}: expected arrays and inline tables nested a few levels deep, "
                         "got some nested too deeply for Python to read") from None
    except ValueError as e:  # Python refuses to read an integer of more than 4,300 digits
        long = next((m for m in re.finditer(r"[0-9_]{4301,}", text)
                     if len(m.group().replace("_", "")) > 4300), None)
        if long is None:
            raise InputError(f"{path}: not valid TOML ({str(e)[:SHOWN_LIMIT]}); expected TOML "
                             "syntax") from None
        line = text.count("\n", 0, long.start()) + 1
        digits = len(long.group().replace("_", ""))
        raise InputError(f"{path}, line {line}: expected a number of at most 4,300 digits, got "
                         f"one of {digits:,} digits") from None


def merge(base: dict, over: dict) -> dict:
    """Deep merge: tables merge key by key, anything else is replaced."""
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def check_tree(raw: dict, origin: str) -> dict:
    """Check every section and key of one file (or override set) against the registry; return it
    with numbers normalised to their parameter's type (2 -> 2.0 for a float, 2.0 -> 2 for an int)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "extends" or key in TOP_LEVEL:
            if not isinstance(value, str):
                raise InputError(f"{origin}: key \"{key}\": expected a string, got {shown(value)}")
            out[key] = value
            continue
        if key not in SCHEMA:
            raise InputError(f"{origin}: unknown key {shown(key)} (expected one of "
                             f"{', '.join(['extends', *TOP_LEVEL, *SCHEMA])})")
        if not isinstance(value, dict):
            raise InputError(f"{origin}: key \"{key}\": expected a table [{key}], got "
                             f"{shown(value)}")
        out[key] = {}
        for name, v in value.items():
            if name not in SCHEMA[key]:
                raise InputError(f"{origin}: unknown key {shown(f'{key}.{name}')} (expected one "
                                 f"of {', '.join(SCHEMA[key])})")
            out[key][name] = check_value(v, SCHEMA[key][name], SCHEMA[key][name].default,
                                         f"{key}.{name}", origin)
    return out


def check_value(value: Any, param: Param, default: Any, key: str, origin: str) -> Any:
    """Check one value against the shape of its default, recursing into tables; return it with
    a number converted to the default's type."""
    def fail(expected: str):
        raise InputError(f"{origin}: key \"{key}\": expected {expected}, got {shown(value)}")

    if isinstance(default, dict):
        if not isinstance(value, dict):
            fail(f"a table with keys {', '.join(default)}")
        for k in value:
            if k not in default:
                raise InputError(f"{origin}: unknown key {shown(f'{key}.{k}')} (expected one of "
                                 f"{', '.join(default)})")
        return {k: check_value(v, param, default[k], f"{key}.{k}", origin)
                for k, v in value.items()}
    if isinstance(default, bool):
        if not isinstance(value, bool):
            fail("true or false")
    elif isinstance(default, (int, float)):
        wanted = "a whole number" if isinstance(default, int) else "a number"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy numbers too
            fail(f"{wanted} in [{param.lo:g}, {param.hi:g}]")
        # The range first: comparing a 400-digit int with a float is exact, but float() of it
        # overflows; a NaN fails every comparison.
        if not param.lo <= value <= param.hi:
            fail(f"{wanted} in [{param.lo:g}, {param.hi:g}]")
        if isinstance(default, int) and not float(value).is_integer():
            fail(f"{wanted} in [{param.lo:g}, {param.hi:g}]")
        return int(value) if isinstance(default, int) else float(value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            fail("a string")
        if param.choices and value not in param.choices:
            fail(f"one of {', '.join(param.choices)}")
    elif isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            fail(f"a list of names from {', '.join(param.choices)}")
        bad = [v for v in value if v not in param.choices]
        if bad:
            fail(f"names from {', '.join(param.choices)} (unknown: {', '.join(bad)})")
        if len(set(value)) != len(value):
            fail("each name once")
    return value


def synthetic_min_population() -> int:
    """The smallest synthetic Xining: every community at its class floor."""
    from sim.city import _POPULATION_PROFILE, XINING_COUNTS

    return sum(n * _POPULATION_PROFILE[c][0] for c, n in XINING_COUNTS.items())


def check_world(params: dict, origin: str) -> None:
    """Checks across keys (after `extends` and overrides are merged) that one value cannot make:
    a synthetic city big enough for its 178 communities, measures only with classes, some channel
    to voice through."""
    city = params["city"]
    floor = synthetic_min_population()
    if city["source"] == "synthetic" and city["population"] < floor:
        raise InputError(f"{origin}: key \"city.population\": expected at least {floor:,} persons "
                         f"for the synthetic city (its 178 communities at their class floors), "
                         f"got {city['population']:,}")
    if params["classification"]["scheme"] == "none":
        for cls, measures in params["measures"].items():
            if measures:
                raise InputError(f"{origin}: key \"measures.{cls}\": expected no type measures "
                                 f"when classification.scheme is \"none\", got {shown(measures)}")
    if not any(params["behaviour"]["channel_weight"].values()):
        raise InputError(f"{origin}: key \"behaviour.channel_weight\": expected at least one "
                         f"positive weight, got {shown(params['behaviour']['channel_weight'])}")


def shown(value: Any) -> str:
    """A value as the user would write it in TOML (true, "ten", [..]), cut short so that an error
    stays one readable line however long, deep or large the value is."""
    text = brief(value, depth=3)
    return text if len(text) <= SHOWN_LIMIT else text[:SHOWN_LIMIT - 3] + "..."


def brief(value: Any, depth: int) -> str:
    """`toml_value`, but at most `depth` levels and a few items of each array or table deep, and
    a huge whole number by its length (Python cannot print one of more than 4,300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"a whole number of {digits(value)} digits"
    if isinstance(value, str):
        return toml_string(value[:SHOWN_LIMIT])
    if isinstance(value, (list, tuple)):
        items = [brief(v, depth - 1) for v in value[:8]] if depth > 0 else []
        return "[" + ", ".join(items + ["..."] * (len(value) > len(items))) + "]"
    if isinstance(value, dict):
        items = [f"{toml_key(k)} = {brief(v, depth - 1)}"
                 for k, v in itertools.islice(value.items(), 8)] if depth > 0 else []
        return "{ " + ", ".join(items + ["..."] * (len(value) > len(items))) + " }"
    try:
        return toml_value(value)
    except (TypeError, AttributeError, ValueError):
        return repr(value)[:SHOWN_LIMIT]


def digits(n: int) -> str:
    """How many digits a whole number has (roughly, beyond the 4,300 Python will print)."""
    try:
        return f"{len(str(abs(n))):,}"
    except ValueError:
        return f"about {int((n.bit_length() - 1) * 0.30103) + 1:,}"


def template(params: dict | None = None, name: str = "", description: str = "") -> str:
    """A complete scenario as TOML, every key with its meaning, unit and source as a comment."""
    params = params or defaults()
    lines = [f'name = "{name}"', f'description = "{description}"']
    for section, schema in SCHEMA.items():
        lines += ["", f"[{section}]"]
        for key, p in schema.items():
            lines.append(f"# {p.meaning} [{p.unit}; source: {p.source}]")
            value = params[section][key]
            if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
                lines += [f"{key}.{k} = {toml_value(v)}" for k, v in value.items()]
            else:
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped (so that a
    value quoted in an error message never breaks its line)."""
    return '"' + "".join(_ESCAPES.get(ch) or (f"\\u{ord(ch):04x}" if breaks(ch) else ch)
                         for ch in text) + '"'


def breaks(ch: str) -> bool:
    """A control character, or one that str.splitlines() takes for a line break."""
    return ord(ch) < 32 or 127 <= ord(ch) < 160 or ch in "\u2028\u2029"


def toml_key(key: Any) -> str:
    """A table key as TOML writes it: bare when it can be, else quoted."""
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_string(key[:SHOWN_LIMIT])
