"""What the headless-browser tests share: Debian's chromium, its flags, and one page visit.

The tests never skip: without chromium they fail and say how to install it (`make browser`).
`visit` opens a file in a new page with every request routed through the test: the file's own
requests go through, anything else is recorded as outside and refused (or answered locally).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Debian's chromium (Playwright's own browser download does not work offline).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Headless, and no background connections (the machine has no network to reach).
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Requests that never leave the page, whatever its folder.
INLINE = ("data:", "blob:", "about:")
#: The page's viewport unless a test asks for another.
VIEWPORT = {"width": 1200, "height": 800}

#: A route map (routes.maps) is ready once its maps have registered.
MAP_READY = "window.routes && Object.keys(window.routes.registry).length > 0"

#: Answers an outside request locally: (content type, body), or None to refuse it.
Answer = Callable[[str], tuple[str, bytes] | None]


@dataclass
class Visit:
    """What a page did: every request, requests refused as outside, console errors, dialogs.

    ``console`` holds every console message as ``"type: text"``; ``errors`` the console errors
    and uncaught page errors; ``seconds`` the time from navigation to the page being ready.
    Used as a context manager, the page is closed on leaving the block.
    """

    page: object
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __enter__(self) -> Visit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.page.close()  # type: ignore[attr-defined]


def visit(browser, path: Path, *, ready: str | None = None, local: str = "file:",
          answer: Answer | None = None, **page_options) -> Visit:
    """Open ``path`` in a new page of ``browser`` and record what it does.

    Parameters
    ----------
    browser
        The session's Playwright browser (the ``browser`` fixture).
    path
        The HTML file to open.
    ready
        A JavaScript expression waited for (truthy) after the page loaded.
    local
        URL prefix of the requests let through (besides data:, blob: and about:); any other
        request is recorded in ``outside`` and refused.
    answer
        Called with each outside URL; a (content type, body) it returns is served instead of
        refusing the request (the request stays recorded as outside).
    **page_options
        Passed to ``browser.new_page`` (``viewport`` defaults to 1200 x 800).
    """
    page = browser.new_page(**{"viewport": VIEWPORT, **page_options})
    v = Visit(page)

    def on_console(m) -> None:
        v.console.append(f"{m.type}: {m.text}")
        if m.type == "error":
            v.errors.append(m.text)

    def on_dialog(d) -> None:
        v.dialogs.append(d.message)
        d.dismiss()

    def route(r) -> None:
        url = r.request.url
        v.requests.append(url)
        if url.startswith((local, *INLINE)):
            r.continue_()
            return
        v.outside.append(url)
        served = answer(url) if answer else None
        if served is None:
            r.abort()
        else:
            r.fulfill(status=200, content_type=served[0], body=served[1])

    page.on("console", on_console)
    page.on("pageerror", lambda e: v.errors.append(str(e)))
    page.on("dialog", on_dialog)
    page.route("**/*", route)
    t0 = time.perf_counter()
    page.goto(path.as_uri())
    if ready:
        page.wait_for_function(ready)
    v.seconds = time.perf_counter() - t0
    return v
