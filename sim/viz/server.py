"""Serve the app: solara's starlette app under uvicorn, on localhost by default."""

import os
import socket
import threading
import time
import webbrowser

from sim.viz.app import ENV, AppConfig


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve(config: AppConfig, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False,
          announce=print) -> None:
    """Run the app until interrupted; `announce` gets the address once the server listens."""
    port = port or free_port(host)
    os.environ[ENV] = config.to_env()
    os.environ["SOLARA_APP"] = "sim.viz.app"
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no calls home
    from sim.viz.assets import ensure_assets

    for problem in ensure_assets():
        announce(f"warning: could not fetch the app asset {problem}; the browser will try the CDN")
    import uvicorn

    server = uvicorn.Server(uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                                           log_level="warning"))
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/"

    def tell():
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            announce(f"Shequ app at {url}  (Ctrl+C to stop)")
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=tell, daemon=True).start()
    server.run()
