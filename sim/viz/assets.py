"""The browser files the app needs, without the open internet.

Solara's page loads its JavaScript, CSS and fonts from a CDN (jsdelivr) through the server's
asset proxy, which keeps a copy in a cache folder. Where jsdelivr cannot be reached (a classroom
or CI behind a firewall that lets only package registries through), the app would stay blank.
So before the server starts, `ensure_assets()` fills that cache from the npm registry — the same
files, as npm packages, checked against the registry's sha512 integrity — once per environment:
it says first what it downloads and how big, then shows the progress; later starts find the
files and need no network.

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


def metadata(name: str, version: str, timeout: float = 60) -> dict:
    """The registry's `dist` record of one package version (tarball, integrity, unpackedSize)."""
    meta_url = registry() + name.replace("/", "%2F") + "/" + version
    with urllib.request.urlopen(meta_url, timeout=timeout) as response:
        return json.load(response)["dist"]


def download(url: str, timeout: float = 60, progress=None) -> bytes:
    """A file's bytes; `progress(done, total)` after each chunk (total 0 when not announced)."""
    chunks, done = [], 0
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        while chunk := response.read(1 << 20):
            chunks.append(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return b"".join(chunks)


def fetch(name: str, version: str, root: Path | None = None, timeout: float = 60,
          dist: dict | None = None, progress=None) -> Path:
    """Download one npm package into the cache as `name@version/…` (the CDN's layout)."""
    root = root or cache_dir()
    target = root / f"{name}@{version}"
    dist = dist or metadata(name, version, timeout)
    data = download(dist["tarball"], timeout, progress)
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


def megabytes(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


class Progress:
    """Lines of download progress: one at each further tenth of a package."""

    def __init__(self, what: str, announce):
        self.what, self.announce, self.shown = what, announce, -1

    def __call__(self, done: int, total: int) -> None:
        tenth = done * 10 // total if total else -1
        if tenth > self.shown:
            self.shown = tenth
            self.announce(f"  {self.what}: {megabytes(done)} of {megabytes(total)} "
                          f"({tenth * 10}%)")


def ensure_assets(root: Path | None = None, announce=None) -> list[str]:
    """Fetch the missing packages, saying first what and how big and then how far (`announce`
    gets the lines; None: silent); returns the problems (empty when all are there). A failure
    is not fatal: solara then tries jsdelivr itself."""
    say = announce or (lambda line: None)
    missing = [(n, v) for n, v in packages() if not present(n, v, root)]
    if not missing:
        return []
    problems, dists = [], {}
    for name, version in missing:
        try:
            dists[name, version] = metadata(name, version)
        except (OSError, ValueError, KeyError) as e:
            problems.append(f"{name}@{version}: {e}")
    if dists:
        unpacked = sum(d.get("unpackedSize", 0) for d in dists.values())
        say(f"First start: fetching the app's browser files once from {registry()} "
            f"({', '.join(f'{n}@{v}' for n, v in dists)}; about {megabytes(unpacked)} on disk "
            f"in {cache_dir() if root is None else root}); later starts need no network.")
    for (name, version), dist in dists.items():
        try:
            fetch(name, version, root, dist=dist, progress=Progress(f"{name}@{version}", say))
        except (OSError, ValueError, KeyError, tarfile.TarError) as e:
            problems.append(f"{name}@{version}: {e}")
    return problems


if __name__ == "__main__":
    trouble = ensure_assets(announce=print)
    for line in trouble:
        print(f"could not fetch {line}", file=sys.stderr)
    print(f"app assets in {cache_dir()}" if not trouble else "some app assets are missing")
    raise SystemExit(1 if trouble else 0)
