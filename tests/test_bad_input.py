"""Malformed input, by whole classes (issue 9): numbers too large for their type, nesting deep
enough to recurse, names no file can have — and a property-based test that feeds generated
scenario, experiment and CSV texts to the loaders. Every bad input must be one `InputError` whose
message is one line; nothing else may escape, and nothing here builds a model. (The bounds on CSV
size are tested in test_city.py, the command-line flags in test_cli.py.)"""

import csv
import io
import json
import math
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sim import city
from sim.batch import experiment
from sim.errors import InputError
from sim.parameters import SCHEMA
from sim.scenario import MAX_EXTENDS, SCENARIO_DIR, Scenario, load, shown

DATA = Path(__file__).parent / "data"
CSV_TEXT = (DATA / "small-city.csv").read_text()


def one_line_error(call) -> str:
    """The message of the InputError that `call()` raises: one line, not a screenful."""
    with pytest.raises(InputError) as err:
        call()
    message = str(err.value)
    assert message and len(message.splitlines()) == 1, message
    assert len(message) < 2000, message[:300]
    return message


def scenario_file(folder: Path, text: str, name: str = "s.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


# ---- numbers too large for their type ---------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("[run]\ndays = " + "9" * 400, ['"run.days"', "a whole number of 400 digits"]),
    ("[run]\nscale = " + "9" * 400, ['"run.scale"', "400 digits"]),
    ("[run]\nscale = 1e400", ['"run.scale"', "got inf"]),
    ("[funding]\ntotal = -1e400", ['"funding.total"', "got -inf"]),
    ("[behaviour]\nvoice_base = nan", ['"behaviour.voice_base"', "got nan"]),
    ("[run]\n\ndays = " + "9" * 5000, ["line 3", "at most 4,300 digits", "5,000 digits"]),
    ("[run]\nseed = 9_223_372_036_854_775_808", ['"run.seed"', "9_223_372_036_854_775_808"]),
])
def test_numbers_too_large_are_one_line(tmp_path, text, words):
    message = one_line_error(lambda: load(scenario_file(tmp_path, text)))
    for word in ["s.toml", "expected", *words]:
        assert word in message, (word, message)


# ---- nesting deep enough to recurse -----------------------------------------------------------
@pytest.mark.parametrize("value", [
    "[" * 5000 + "]" * 5000,  # tomllib itself recurses: RecursionError
    "{ a = " * 5000 + "1" + " }" * 5000,
    "[" * 300 + "]" * 300,  # read, then refused by the checks: shown() must not recurse
])
def test_deep_nesting_is_one_line(tmp_path, value):
    message = one_line_error(lambda: load(scenario_file(tmp_path, f"[run]\ndays = {value}\n")))
    assert "s.toml" in message and "expected" in message


def test_a_dotted_key_thousands_deep_is_one_line(tmp_path):
    deep = ".".join(["b"] * 3000)
    path = scenario_file(tmp_path, f"[funding]\nby_class.{deep} = 1")
    message = one_line_error(lambda: load(path))
    assert '"funding.by_class.b"' in message
    exp = scenario_file(tmp_path, 'scenarios = ["xining-uniform"]\nreplications = 1\n'
                        f"[sweep]\nvalues.a.{deep} = [1]\n", "e.toml")
    assert "expected a scenario parameter" in one_line_error(lambda: experiment.load(exp))


def test_a_long_extends_chain_stops_at_the_maximum(tmp_path):
    for i in range(1500):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n' if i < 1499 else "")
    start = time.perf_counter()
    message = one_line_error(lambda: load(tmp_path / "c0.toml"))
    assert time.perf_counter() - start < 5
    assert "c0.toml" in message and '"extends"' in message and f"at most {MAX_EXTENDS}" in message
    # a chain within the maximum loads
    (tmp_path / f"c{MAX_EXTENDS - 1}.toml").write_text("")
    assert load(tmp_path / "c0.toml").files[0].endswith("c0.toml")


@pytest.mark.parametrize("name", ["x" * 5000 + ".toml", "x" * 5000, "nul\0.toml", "a\nb.csv"])
def test_names_no_file_can_have_are_one_line(tmp_path, name):
    """Too long for the file system, or with a NUL byte: pathlib raises OSError / ValueError."""
    quoted = json.dumps(name)
    one_line_error(lambda: load(name))
    one_line_error(lambda: experiment.load(name))
    one_line_error(lambda: load(scenario_file(tmp_path, f"extends = {quoted}\n")))
    one_line_error(lambda: load(scenario_file(tmp_path, f"[city]\nsource = {quoted}\n")))
    one_line_error(lambda: experiment.load(scenario_file(
        tmp_path, f"scenarios = [{quoted}]\nreplications = 1\n", "e.toml")))
    one_line_error(lambda: city.load_communities_csv(tmp_path / name))


def test_shown_is_short_on_huge_deep_and_multiline_values():
    deep: list = []
    for _ in range(10_000):  # built without recursion, deeper than repr() could go
        deep = [deep]
    assert shown(deep) == "[[[[...]]]]"
    assert shown(10**5000).startswith("a whole number of about 5,00")  # Python won't print it
    assert shown(-(10**400)) == "a whole number of 401 digits"
    assert shown("a\nb\u2028c") == '"a\\nb\\u2028c"'
    assert shown(list(range(1000))) == "[0, 1, 2, 3, 4, 5, 6, 7, ...]"
    assert len(shown("x" * 10**6)) <= 100
    assert shown({"a": 1, "b c": [True]}) == '{ a = 1, "b c" = [true] }'


# ---- property-based: generated input never escapes as anything but one clean line ------------
class Raw(str):
    """A value written into the TOML text as it is (a 5,000-digit number, inf, nan)."""


def toml(value) -> str:
    """A generated value as TOML (inline tables and arrays; every key quoted)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")  # valid TOML
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{toml(str(k))} = {toml(v)}" for k, v in value.items()) + " }"


def document(table: dict) -> str:
    return "".join(f"{toml(str(k))} = {toml(v)}\n" for k, v in table.items())


BAD_NAMES = ["x" * 5000 + ".toml", "x" * 5000, "nul\0.csv", "a\nb.toml"]  # no file has these
CHOICES = sorted({c for ps in SCHEMA.values() for p in ps.values() for c in p.choices or ()})
def texts(max_size=20):
    """Any UTF-8 text (no lone surrogates: TOML and UTF-8 files cannot hold them)."""
    return st.text(st.characters(codec="utf-8"), max_size=max_size)


scalars = st.one_of(
    st.integers(-5, 5000), st.integers(min_value=2**62, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    texts(max_size=8), st.sampled_from(CHOICES),
    st.sampled_from([Raw("1_000_000"), Raw("-0.0"), Raw("1e400"), Raw("9" * 5000)]))
wild = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["a", "B", "app", "x.y"]), inner,
                                      max_size=3), max_leaves=6)
deep_text = st.integers(1, 4000).map(lambda n: "[run]\ndays = " + "[" * n + "]" * n)
junk = st.one_of(st.text(max_size=200), deep_text)


def valid(param, default):
    """Values a parameter takes (its default's shape), so that a document gets past its first
    key and the checks after it are exercised too."""
    if isinstance(default, dict):
        return st.fixed_dictionaries({}, optional={k: near(param, v) for k, v in default.items()})
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(int(param.lo), int(min(param.hi, 10**7)))
    if isinstance(default, float):
        return st.floats(param.lo, param.hi)
    if isinstance(default, list):
        return st.lists(st.sampled_from(param.choices), max_size=2, unique=True)
    return st.sampled_from(param.choices) if param.choices else st.just(default)


def chance(n: int):
    """True about once in `n` draws (and False when Hypothesis shrinks: index 0)."""
    return st.sampled_from([False] * (n - 1) + [True])


def rarely(spoilt, good):
    """Mostly `good`, now and then `spoilt`: a document with one bad value gets past its other
    keys, so the checks after the first are exercised too."""
    return chance(16).flatmap(lambda bad: spoilt if bad else good)


def near(param, default):
    return rarely(wild, valid(param, default))


SECTIONS = {s: st.fixed_dictionaries({}, optional={k: near(p, p.default) for k, p in ps.items()})
            for s, ps in SCHEMA.items() if s != "city"}
PARAMS = {f"{s}.{k}": near(p, p.default) for s, ps in SCHEMA.items() for k, p in ps.items()
          if s != "city"}
PARAMS |= {"funding.by_class.B": st.integers(0, 10**6), "run.seed": st.integers(0, 9),
           "bogus.key": wild, "a.b.c.d": wild, "run": wild}


@st.composite
def scenario_texts(draw, folder: Path) -> str:
    table = {s: draw(t) for s, t in SECTIONS.items() if draw(st.booleans())}
    extras = {"name": rarely(wild, texts(max_size=10)),
              "description": rarely(wild, texts(max_size=10)),
              "extends": rarely(
                  st.sampled_from(["missing.toml", 5, "s.toml", *BAD_NAMES]),
                  st.sampled_from([str(SCENARIO_DIR / "xining-uniform.toml"), "city.toml"])),
              "city": rarely(wild, st.fixed_dictionaries({"source": rarely(
                  st.sampled_from(["nope.csv", 7, *BAD_NAMES]),
                  st.sampled_from(["synthetic", "city.csv", str(folder / "city.csv")]))})),
              "bogus": wild}
    for key, strategy in extras.items():
        if draw(chance(3 if key != "bogus" else 16)):
            table[key] = draw(strategy)
    return document(table)


def sets():
    """A `set` table: sections, or dotted parameter keys (quoted: "a.b" = x)."""
    return st.one_of(st.fixed_dictionaries({}, optional=SECTIONS),
                     st.fixed_dictionaries({}, optional=PARAMS))


@st.composite
def sweeps(draw) -> dict:
    design = draw(st.sampled_from(["factorial", "factorial", "latin_hypercube", "sobol",
                                   "saltelli", "morris", "x"]))
    which = "values" if (design == "factorial") != draw(chance(6)) else "ranges"
    keys = draw(st.lists(st.sampled_from(sorted(PARAMS)), min_size=1, max_size=2, unique=True))
    sweep = {"design": design, which: {k: draw(rarely(wild, st.lists(
        PARAMS[k], min_size=1, max_size=3, unique_by=repr))) for k in keys}}
    if design != "factorial" or draw(chance(6)):
        sweep["samples"] = draw(rarely(scalars, st.sampled_from([1, 2, 4, 8, 100_000])))
    return sweep


@st.composite
def experiment_texts(draw) -> str:
    names = rarely(st.sampled_from(["nope", 3, *BAD_NAMES]),
                   st.sampled_from(["xining-uniform", "xining-classified", "city.toml"]))
    table: dict = {}
    if draw(st.booleans()):
        table["scenarios"] = draw(st.lists(names, min_size=0 if draw(chance(16)) else 1,
                                           max_size=3, unique=True))
    else:
        table["variants"] = draw(st.lists(st.fixed_dictionaries(
            {"scenario": names}, optional={"name": texts(max_size=6), "set": sets()}),
            min_size=1, max_size=3))
    table["replications"] = draw(rarely(st.one_of(st.integers(-1, 200_000), scalars),
                                        st.integers(1, 5)))
    optional = {"seed": rarely(scalars, st.integers(0, 2**63 - 1)),
                "days": rarely(scalars, st.integers(1, 30)),
                "scale": rarely(scalars, st.floats(1e-5, 1)), "name": rarely(wild, texts()),
                "keep": rarely(st.lists(st.sampled_from(["summary", "daily", "nope"])),
                               st.sampled_from([["summary"], ["daily", "summary"]])),
                "set": sets(), "sweep": sweeps(), "bogus": wild}
    for key, strategy in optional.items():
        if draw(chance(3 if key != "bogus" else 16)):
            table[key] = draw(strategy)
    return document(table)


CELLS = st.one_of(
    st.sampled_from(["core", "fringe", "township", "0.5", "1", "0", "1000", "12.0", "1e12",
                     "1e20", "-1", "nan", "inf", "", "9" * 5000, "x" * 200, "a\nb", '"']),
    texts(max_size=12))
ROWS = list(csv.reader(io.StringIO(CSV_TEXT)))


@st.composite
def csv_texts(draw) -> str:
    """The small city's rows, some cells and the header now and then spoiled."""
    header, *rows = ROWS
    if draw(chance(6)):
        header = draw(st.lists(st.sampled_from(header + ["mayor"]), max_size=10))
    rows = [[draw(CELLS) if draw(chance(30)) else cell for cell in row]
            for row in rows[:draw(st.integers(0, len(rows)))]]
    out = io.StringIO()
    csv.writer(out).writerows([header] + rows)
    return out.getvalue()


def clean(call):
    """The loader's result, or None after an InputError of one line; anything else fails."""
    try:
        return call()
    except InputError as e:
        message = str(e)
        assert message and len(message.splitlines()) == 1, repr(message)
        assert len(message) < 2000, message[:300]
        return None


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder with a valid CSV city and a scenario using it, for the generated files."""
    folder = tmp_path_factory.mktemp("generated")
    (folder / "city.csv").write_text(CSV_TEXT)
    (folder / "city.toml").write_text(f'extends = "{SCENARIO_DIR / "xining-classified.toml"}"\n'
                                      '[city]\nsource = "city.csv"\n')
    return folder


FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(data=st.data())
def test_generated_scenarios_validate_or_fail_in_one_line(folder, data):
    text = data.draw(st.one_of(scenario_texts(folder), junk))
    path = folder / "s.toml"
    if data.draw(st.integers(0, 9)) == 0:
        path.write_bytes(data.draw(st.binary(max_size=100)))
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    scenario = clean(lambda: load(path))
    if scenario is not None:
        assert isinstance(scenario, Scenario) and set(scenario.params) == set(SCHEMA)
        assert (scenario.city_csv is None) == (scenario["city"]["source"] == "synthetic")


@FAST
@given(data=st.data())
def test_generated_experiments_validate_or_fail_in_one_line(folder, data):
    path = folder / "e.toml"
    path.write_text(data.draw(st.one_of(experiment_texts(), junk)), encoding="utf-8",
                    errors="surrogatepass")
    loaded = clean(lambda: experiment.load(path))
    if loaded is not None:
        assert loaded.variants and not loaded.configs  # validated, nothing resolved or built
        points = loaded.sweep.n_points() if loaded.sweep else 1
        assert len(loaded.variants) * points * loaded.replications <= experiment.MAX_RUNS


@FAST
@given(data=st.data())
def test_generated_csvs_load_or_fail_in_one_line(folder, data):
    path = folder / "c.csv"
    if data.draw(st.integers(0, 9)) == 0:
        path.write_bytes(data.draw(st.binary(max_size=200)))
    else:
        path.write_text(data.draw(st.one_of(csv_texts(), st.text(max_size=200))),
                        encoding="utf-8", errors="surrogatepass")
    table = clean(lambda: city.load_communities_csv(path))
    if table is not None:
        assert list(table.columns) == list(city.COMMUNITY_COLUMNS) and len(table) >= 1
        assert table["population"].between(1, city.MAX_COMMUNITY_POPULATION).all()
