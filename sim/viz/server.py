"""Serve the app: solara's starlette app under uvicorn, on localhost by default.

`--host 0.0.0.0` (or another address of this computer) serves the classroom's network too: then
every address students can type is printed, with a warning that anyone who can reach this
computer can use the app. A port already taken is one clear line, before anything starts.
"""

import errno
import ipaddress
import os
import socket
import threading
import time
import webbrowser

from sim.errors import InputError
from sim.viz.app import ENV, AppConfig
from sim.viz.labels import text

LOCAL = ("127.0.0.1", "localhost", "::1")
EVERYWHERE = ("0.0.0.0", "::", "")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def check_port(host: str, port: int) -> int:
    """The port to serve on (0: a free one), or one clear InputError if it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
            return s.getsockname()[1]
    except socket.gaierror:
        raise InputError(f"--host {host}: not an address of this computer; expected 127.0.0.1 "
                         "(this computer only), 0.0.0.0 (every network) or one of its "
                         "addresses") from None
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise InputError(f"--port {port}: the port is already in use on {host} (is another "
                             "app running?); expected a free port, or --port 0 for any free "
                             "one") from None
        if e.errno == errno.EADDRNOTAVAIL:
            raise InputError(f"--host {host}: not an address of this computer; expected "
                             "127.0.0.1, 0.0.0.0 or one of its addresses") from None
        raise InputError(f"--host {host} --port {port}: cannot serve there ({e.strerror}); "
                         "expected a free port above 1023") from None


def own_addresses() -> list[str]:
    """This computer's IPv4 addresses other than loopback (psutil where installed, else the
    host name's addresses and the one used to reach other networks)."""
    found = []
    try:
        import psutil

        found = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
                 if a.family == socket.AF_INET]
    except ImportError:
        try:
            found = socket.gethostbyname_ex(socket.gethostname())[2]
        except OSError:
            pass
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("192.0.2.1", 9))  # a documentation address: no packet is sent
                found.append(s.getsockname()[0])
        except OSError:
            pass
    return sorted({a for a in found if not ipaddress.ip_address(a).is_loopback},
                  key=lambda a: tuple(int(x) for x in a.split(".")))


def addresses(host: str, port: int) -> list[str]:
    """Every address of the app a browser can use: this computer's, then the network's."""
    if host in LOCAL:
        return [f"http://localhost:{port}/"]
    if host in EVERYWHERE:
        return [f"http://localhost:{port}/", *(f"http://{a}:{port}/" for a in own_addresses())]
    shown = f"[{host}]" if ":" in host else host
    return [f"http://{shown}:{port}/"]


def network_warning(host: str) -> str | None:
    if host in LOCAL:
        return None
    return ("warning: the app is reachable from the network at the addresses above: anyone who "
            "can reach this computer can open it and move its levers. Stop it with Ctrl+C after "
            "the class; --host 127.0.0.1 (the default) serves this computer only.")


def serve(config: AppConfig, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False,
          announce=print) -> None:
    """Run the app until interrupted; `announce` gets the addresses once the server listens."""
    port = check_port(host, port)
    os.environ[ENV] = config.to_env()
    os.environ["SOLARA_APP"] = "sim.viz.app"
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no calls home
    from solara.server import settings

    settings.theme.show_banner = False  # "This website runs on Solara" sat over the pictures
    settings.theme.title = text("title", config.lang)
    from sim.viz.assets import ensure_assets

    for problem in ensure_assets(announce=announce):
        announce(f"warning: could not fetch the app asset {problem}; the browser will try the CDN")
    import uvicorn

    server = uvicorn.Server(uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                                           log_level="warning"))
    urls = addresses(host, port)

    def tell():
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            announce(f"Shequ app at {urls[0]}  (Ctrl+C to stop)")
            for url in urls[1:]:
                announce(f"  students: {url}")
            warning = network_warning(host)
            if warning:
                announce(warning)
            if open_browser:
                webbrowser.open(urls[0])

    threading.Thread(target=tell, daemon=True).start()
    server.run()
