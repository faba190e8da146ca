"""What the headless-browser tests share: Debian's chromium, its flags, and a page visit record.

The tests never skip: without chromium they fail and say how to install it (`make browser`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: Debian's chromium (Playwright's own browser download does not work offline).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Headless, and no background connections (the machine has no network to reach).
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Visit:
    """What a page did: every request, requests refused as outside, console errors, dialogs."""

    page: object
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
