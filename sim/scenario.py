"""Scenario files: one policy world each, TOML, validated key by key against `sim.parameters`.

A scenario may `extends = "other.toml"` (relative to the extending file) and override a few keys.
Every error names the file, the key and what was expected, and raises `InputError`.
"""

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.parameters import SCHEMA, TOP_LEVEL, Param, defaults

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = "xining-classified"


@dataclass
class Scenario:
    """A validated policy world: `params[section][key]`, every key present."""

    name: str
    params: dict[str, dict[str, Any]]
    path: Path | None = None
    description: str = ""
    files: list[str] = field(default_factory=list)  # the file and the files it extends

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.params[section]

    def with_overrides(self, overrides: dict[str, dict[str, Any]], origin: str = "command line"):
        """A copy with some values replaced, validated like a file's (named `origin` in errors)."""
        check_tree(overrides, origin)
        params = merge(copy.deepcopy(self.params), overrides)
        return Scenario(self.name, params, self.path, self.description, list(self.files))


def resolve_path(name_or_path: str | Path) -> Path:
    """A scenario by path, or by name from the shipped `scenarios/` folder."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise InputError(f"{name_or_path}: no such scenario file (expected a .toml path or one of "
                         f"{', '.join(shipped_scenarios())})")
    return path


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load(name_or_path: str | Path | None = None) -> Scenario:
    """Load, follow `extends`, validate and fill defaults."""
    path = resolve_path(name_or_path or DEFAULT_SCENARIO)
    raw, files = read_chain(path, [])
    params = merge(defaults(), {k: v for k, v in raw.items() if k in SCHEMA})
    name = raw.get("name") or path.stem
    return Scenario(name, params, path, raw.get("description", ""), files)


def read_chain(path: Path, seen: list[str]) -> tuple[dict, list[str]]:
    """Read a file and, depth first, the files it extends; later files override earlier ones."""
    key = str(path.resolve())
    if key in seen:
        raise InputError(f"{path}: key \"extends\": expected no cycle, but {path.name} extends "
                         f"itself through {' -> '.join(Path(s).name for s in seen)}")
    raw = read_toml(path)
    check_tree(raw, str(path))
    source = raw.get("city", {}).get("source", "synthetic")
    if source != "synthetic":
        # A relative CSV path belongs to the file that names it.
        raw["city"]["source"] = str(path.parent / source)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, [key]
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise InputError(f"{path}: key \"extends\": expected an existing scenario file, "
                         f"got \"{parent}\" (looked for {parent_path})")
    base, files = read_chain(parent_path, seen + [key])
    base.pop("name", None)
    base.pop("description", None)
    return merge(base, raw), [key] + files


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None


def merge(base: dict, over: dict) -> dict:
    """Deep merge: tables merge key by key, anything else is replaced."""
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def check_tree(raw: dict, origin: str) -> None:
    """Check every section and key of one file (or override set) against the registry."""
    for key, value in raw.items():
        if key == "extends" or key in TOP_LEVEL:
            if not isinstance(value, str):
                raise InputError(f"{origin}: key \"{key}\": expected a string, got {value!r}")
            continue
        if key not in SCHEMA:
            raise InputError(f"{origin}: unknown key \"{key}\" (expected one of "
                             f"{', '.join(['extends', *TOP_LEVEL, *SCHEMA])})")
        if not isinstance(value, dict):
            raise InputError(f"{origin}: key \"{key}\": expected a table [{key}], got {value!r}")
        for name, v in value.items():
            if name not in SCHEMA[key]:
                raise InputError(f"{origin}: unknown key \"{key}.{name}\" (expected one of "
                                 f"{', '.join(SCHEMA[key])})")
            check_value(v, SCHEMA[key][name], SCHEMA[key][name].default, f"{key}.{name}", origin)


def check_value(value: Any, param: Param, default: Any, key: str, origin: str) -> None:
    """Check one value against the shape of its default, recursing into tables."""
    def fail(expected: str):
        raise InputError(f"{origin}: key \"{key}\": expected {expected}, got {value!r}")

    if isinstance(default, dict):
        if not isinstance(value, dict):
            fail(f"a table with keys {', '.join(default)}")
        for k, v in value.items():
            if k not in default:
                raise InputError(f"{origin}: unknown key \"{key}.{k}\" (expected one of "
                                 f"{', '.join(default)})")
            check_value(v, param, default[k], f"{key}.{k}", origin)
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            fail("true or false")
    elif isinstance(default, (int, float)):
        wanted = "a whole number" if isinstance(default, int) else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(f"{wanted} in [{param.lo:g}, {param.hi:g}]")
        if isinstance(default, int) and not float(value).is_integer():
            fail(f"{wanted} in [{param.lo:g}, {param.hi:g}]")
        if not param.lo <= value <= param.hi:
            fail(f"{wanted} in [{param.lo:g}, {param.hi:g}]")
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
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
