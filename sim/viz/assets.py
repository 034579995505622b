"""The browser files the app needs, without the open internet.

Solara's page loads its JavaScript, CSS and fonts from a CDN (jsdelivr) through the server's
asset proxy, which keeps a copy in a cache folder. Where jsdelivr cannot be reached (a classroom
or CI behind a firewall that lets only package registries through), the app would stay blank.
So before the server starts, `ensure_assets()` fills that cache from the npm registry — the same
files, as npm packages, checked against the registry's sha512 integrity — once per environment.

`python -m sim.viz.assets` fetches them ahead of time (e.g. in a set-up script).
"""

import base64
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

# The npm packages behind the CDN paths of solara's page (as of solara 1.64), when its template
# cannot be read; `packages()` reads them from the installed solara.
FALLBACK = (("@widgetti/solara-vuetify3-app", "5.2.0"), ("requirejs", "2.3.6"),
            ("font-awesome", "4.5.0"))
CDN_PATH = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.+-]*)/")
DEFAULT_REGISTRY = "https://registry.npmjs.org/"


def packages() -> list[tuple[str, str]]:
    """(name, version) of each npm package the installed solara's page loads: its front-end app
    (the Vue 3 one with ipyvue 3, as solara chooses), requirejs and font-awesome."""
    try:
        import ipyvue
        import solara.server

        template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
        found = sorted(set(CDN_PATH.findall(template.read_text(encoding="utf-8"))))
        vue3 = ipyvue.__version__.startswith("3")
        app = "@widgetti/solara-vuetify3-app" if vue3 else "@widgetti/solara-vuetify-app"
        found = [(n, v) for n, v in found if not n.startswith("@widgetti/solara-vuetify") or n == app]
        from solara.server import settings

        fontawesome = CDN_PATH.findall("{{cdn}}" + settings.assets.fontawesome_path)
        return found + [f for f in fontawesome if f not in found] or list(FALLBACK)
    except (ImportError, OSError, AttributeError):
        return list(FALLBACK)


def cache_dir() -> Path:
    """Solara's asset-proxy cache (`SOLARA_ASSETS_PROXY_CACHE_DIR`, default in the venv)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def registry() -> str:
    """The npm registry: $NPM_CONFIG_REGISTRY, else ~/.npmrc's `registry=`, else npmjs.org."""
    url = os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry")
    npmrc = Path.home() / ".npmrc"
    if not url and npmrc.is_file():
        for line in npmrc.read_text(errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "registry" and value.strip():
                url = value.strip()
    return (url or DEFAULT_REGISTRY).rstrip("/") + "/"


def present(name: str, version: str, root: Path | None = None) -> bool:
    folder = (root or cache_dir()) / f"{name}@{version}"
    return (folder / "package.json").is_file()


def fetch(name: str, version: str, root: Path | None = None, timeout: float = 60) -> Path:
    """Download one npm package into the cache as `name@version/…` (the CDN's layout)."""
    root = root or cache_dir()
    target = root / f"{name}@{version}"
    meta_url = registry() + name.replace("/", "%2F") + "/" + version
    with urllib.request.urlopen(meta_url, timeout=timeout) as response:
        meta = json.load(response)
    dist = meta["dist"]
    with urllib.request.urlopen(dist["tarball"], timeout=timeout) as response:
        data = response.read()
    check_integrity(data, dist, f"{name}@{version}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if not member.isfile() or len(parts) < 2 or ".." in parts:
                    continue
                out = tmp.joinpath(*parts[1:])  # strip npm's "package/" folder
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(member).read())
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def check_integrity(data: bytes, dist: dict, what: str) -> None:
    integrity = dist.get("integrity", "")
    if integrity.startswith("sha512-"):
        digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
        if digest != integrity.removeprefix("sha512-"):
            raise OSError(f"{what}: the download does not match the registry's sha512 integrity")
    elif dist.get("shasum") and hashlib.sha1(data).hexdigest() != dist["shasum"]:
        raise OSError(f"{what}: the download does not match the registry's shasum")


def ensure_assets(root: Path | None = None, quiet: bool = True) -> list[str]:
    """Fetch the missing packages; returns the problems (empty when all are there). A failure
    is not fatal: solara then tries jsdelivr itself."""
    problems = []
    for name, version in packages():
        if present(name, version, root):
            continue
        try:
            fetch(name, version, root)
            if not quiet:
                print(f"fetched {name}@{version}")
        except (OSError, ValueError, KeyError, tarfile.TarError) as e:
            problems.append(f"{name}@{version}: {e}")
    return problems


if __name__ == "__main__":
    trouble = ensure_assets(quiet=False)
    for line in trouble:
        print(f"could not fetch {line}", file=sys.stderr)
    print(f"app assets in {cache_dir()}" if not trouble else "some app assets are missing")
    raise SystemExit(1 if trouble else 0)
