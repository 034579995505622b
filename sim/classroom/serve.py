"""Serving a class (课堂网页): the students' and the teacher's pages (sim/classroom/pages.py) for
one running class, under uvicorn, in a thread of the process that holds the class.

The class — its `Session` and its `TeacherLoop` — is one object of this process (`CURRENT`); every
browser tab is a Solara session of its own that reads and calls it. The student's page is at `/`;
the teacher's at `/teacher?key=KEY`, the key drawn here and printed only on the teacher's console,
so that a student who types the teacher's address cannot step or end the class.
"""

import os
import secrets
import threading
import time
from dataclasses import dataclass, field

from sim.viz.labels import check_lang

APP = "sim.classroom.pages"
CURRENT: "ClassServer | None" = None  # the class this process serves (one at a time)


@dataclass
class ClassServer:
    """A class served: its session, its loop, the pages' language and the teacher's key."""

    session: object
    loop: object
    lang: str = "en"
    key: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    server: object = None
    thread: threading.Thread | None = None

    def teacher_path(self) -> str:
        return f"teacher?key={self.key}"

    def start(self, host: str, port: int, announce=print, timeout: float = 60.0) -> None:
        """Serve the pages on `host:port` (a port already checked) until `stop`."""
        global CURRENT
        check_lang(self.lang)
        CURRENT = self
        server = self.server = uvicorn_server(host, port, announce)
        self.thread = threading.Thread(target=server.run, name="classroom-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the classroom's pages did not start on {host}:{port}")
            time.sleep(0.05)

    def stop(self) -> None:
        global CURRENT
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)
        if CURRENT is self:
            CURRENT = None


def uvicorn_server(host: str, port: int, announce):
    """Solara's starlette app serving the classroom's pages (its browser files fetched first, as
    `shequ viz` does)."""
    os.environ["SOLARA_APP"] = APP
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no calls home
    from solara.server import app as solara_app
    from solara.server import settings

    import sim.classroom.pages  # noqa: F401 — now: it hears of every tab, the first one too

    if getattr(solara_app.apps.get("__default__"), "name", None) != APP:
        solara_app.apps["__default__"] = solara_app.AppScript(APP)
    settings.theme.show_banner = False
    from sim.viz.assets import ensure_assets

    for problem in ensure_assets(announce=announce):
        announce(f"warning: could not fetch the app asset {problem}; the browser will try the CDN")
    import uvicorn

    return uvicorn.Server(uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                                         log_level="warning"))
