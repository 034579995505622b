"""The package as installed: a wheel built from this tree carries every module and the shipped
scenarios and experiments (one copy, at the top of the tree, mapped to sim/_shipped/ by
pyproject.toml), byte for byte; the version is written once; and Mesa's deprecations fail the tests
(pyproject's filterwarnings), so what Mesa 4 removes is found now.

The wheel is built from a copy of the tree in a temporary folder (setuptools writes build/ and
*.egg-info beside the sources), with pip's build isolation (setuptools from the package index).
Installing it into a fresh environment and running from it is CI's step (.ci/run)."""

import ast
import builtins
import multiprocessing
import shutil
import subprocess
import sys
import tomllib
import warnings
import zipfile
from email.parser import Parser
from pathlib import Path

import mesa
import pytest
from mesa.agentset import AgentSet

import sim
import sim.shipped

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("scenarios", "experiments")
NOT_COPIED = {".git", ".venv", "venv", "output", "results", "build", "dist", ".pytest_cache",
              ".hypothesis"}


def files(folder: Path) -> dict[str, bytes]:
    """The shipped files of a folder (not hidden ones, as setuptools' globs): name -> bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    base = tmp_path_factory.mktemp("wheel")

    def ignore(folder, names):
        top = Path(folder) == ROOT
        return {n for n in names if n == "__pycache__" or n.endswith(".egg-info")
                or (top and n in NOT_COPIED)}

    shutil.copytree(ROOT, base / "src", ignore=ignore)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(base / "dist"), str(base / "src")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = (base / "dist").glob("shequ-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def test_the_wheel_ships_the_scenarios_and_experiments_byte_for_byte(wheel):
    for name in SHIPPED:
        prefix = f"sim/_shipped/{name}/"
        shipped = {entry[len(prefix):]: wheel.read(entry) for entry in wheel.namelist()
                   if entry.startswith(prefix)}
        source = files(ROOT / name)
        assert sorted(shipped) == sorted(source), name
        assert len(source) >= 7, name
        for file, data in source.items():
            assert shipped[file] == data, f"{name}/{file}"


def test_the_wheel_holds_every_module_and_nothing_else(wheel):
    """pyproject.toml lists the packages one by one (the mapping of the shipped folders needs
    that): a new subpackage missing from that list shows here."""
    modules = {p.relative_to(ROOT).as_posix() for top in ("sim", "analysis")
               for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts}
    shipped = {f"sim/_shipped/{name}/{file}" for name in SHIPPED for file in files(ROOT / name)}
    packaged = {entry for entry in wheel.namelist() if ".dist-info/" not in entry}
    assert packaged == modules | shipped


def test_the_version_is_written_once(wheel):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    [metadata] = [e for e in wheel.namelist() if e.endswith(".dist-info/METADATA")]
    fields = Parser().parsestr(wheel.read(metadata).decode("utf-8"))
    assert fields["Version"] == sim.__version__
    assert "mesa[rec]<4,>=3.5" in fields.get_all("Requires-Dist")
    done = subprocess.run([sys.executable, "-m", "sim", "--version"], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.stdout.strip() == f"shequ {sim.__version__}"


def test_the_installed_copy_is_found_first_else_the_source_tree(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "sim"
    (package / "_shipped" / "scenarios").mkdir(parents=True)
    monkeypatch.setattr(sim.shipped, "PACKAGE", package)
    assert sim.shipped.folder("scenarios") == package / "_shipped" / "scenarios"
    assert sim.shipped.folder("experiments") == tmp_path / "site-packages" / "experiments"
    monkeypatch.undo()
    for name in SHIPPED:  # whichever this environment has, it holds the tree's files
        assert files(sim.shipped.folder(name)) == files(ROOT / name)


# ------------------------------------------------------- ready for Mesa 4: deprecations fail

DEPRECATIONS = ("DeprecationWarning", "FutureWarning", "PendingDeprecationWarning")


def message_text(node: ast.expr) -> str | None:
    """A warning's message as written in Mesa's source, `{...}` for what is filled in."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = [message_text(v) if not isinstance(v, ast.FormattedValue) else "{x}"
                 for v in node.values]
        return None if None in parts else "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = message_text(node.left), message_text(node.right)
        return None if left is None or right is None else left + right
    return None


def mesa_deprecations() -> list[tuple[str, str, type[Warning]]]:
    """Every warn(message, <a deprecation category>) in the installed Mesa: (where, message,
    category)."""
    found = []
    package = Path(mesa.__file__).parent
    for file in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args
                    and ast.unparse(node.func) in ("warn", "warnings.warn")):
                continue
            category = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "category"), None)
            if isinstance(category, ast.Name) and category.id in DEPRECATIONS:
                where = f"{file.relative_to(package.parent).as_posix()}:{node.lineno}"
                found.append((where, message_text(node.args[0]), getattr(builtins, category.id)))
    return found


MESA_DEPRECATIONS = mesa_deprecations()


def test_mesa_has_deprecations_to_check():
    assert len(MESA_DEPRECATIONS) >= 10
    assert {category for _, _, category in MESA_DEPRECATIONS} == {
        DeprecationWarning, FutureWarning, PendingDeprecationWarning}


@pytest.mark.parametrize(("where", "message", "category"), MESA_DEPRECATIONS,
                         ids=[where for where, _, _ in MESA_DEPRECATIONS])
def test_every_mesa_deprecation_is_an_error_wherever_it_is_attributed(where, message, category):
    """Mesa warns with stacklevel=2: the warning is attributed to Mesa's caller (here, as if
    sim.model had called), or to Mesa itself when Mesa calls its own deprecated API."""
    assert message is not None, f"{where}: cannot read the message; check the filters by hand"
    for module in ("sim.model", "mesa.visualization.space_renderer"):
        with pytest.raises(category):
            warnings.warn_explicit(message, category, where, 1, module=module)


@pytest.mark.parametrize("category", [DeprecationWarning, FutureWarning,
                                      PendingDeprecationWarning])
def test_any_deprecation_raised_inside_mesa_is_an_error(category):
    with pytest.raises(category):
        warnings.warn_explicit("something new", category, "mesa/model.py", 1,
                               module="mesa.model")


def test_other_libraries_deprecations_stay_warnings():
    with warnings.catch_warnings(record=True):
        warnings.warn_explicit("DataFrame.swapaxes is deprecated", FutureWarning,
                               "sim/outputs.py", 1, module="sim.outputs")


def test_real_mesa_deprecations_fail():
    with pytest.raises(FutureWarning, match="`seed` keyword argument is deprecated"):
        mesa.Model(seed=1)
    model = mesa.Model(rng=1)
    agents = AgentSet([mesa.Agent(model)], random=model.random)
    with pytest.raises(PendingDeprecationWarning, match="removed in Mesa 4.0"):
        agents[0]
    method = multiprocessing.get_start_method(allow_none=True)
    try:  # batch_run sets the start method to spawn, even when it then refuses
        with pytest.raises(DeprecationWarning, match="`iterations` keyword argument"):
            mesa.batch_run(mesa.Model, parameters={}, iterations=1, number_processes=1,
                           display_progress=False)
    finally:
        multiprocessing.set_start_method(method, force=True)
