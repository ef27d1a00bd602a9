"""The web chat in a real headless Chromium: a `wasl serve` process on its own database, and
a visitor's page at /chat, read and driven only through what the page shows (the DOM the
page promises: #wasl-log, .wasl-bot / .wasl-me, .wasl-choice, #wasl-input, #wasl-file...).

Playwright's sync API runs an event loop of its own in this thread, so while a browser is
open nothing here may call `asyncio.run`: commands that need one (`wasl staff add`, database
reads) run in another thread (`off_loop`) or in a child process (`tests.e2e.sim.wasl`)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.e2e.telegram_bot import free_port, interrupt, wait_listening

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # reported by `launch_browser`: skipped here, a failure on CI
    sync_playwright = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("WASL_CHROMIUM", "/usr/bin/chromium"))
PHONE: dict[str, Any] = {  # an ordinary phone, held upright
    "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
    "has_touch": True, "locale": "ar-SA", "timezone_id": "Asia/Riyadh",
}
DESKTOP: dict[str, Any] = {  # a computer's browser window
    "viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "is_mobile": False,
    "has_touch": False,
}
WAIT_MS = 15_000  # for anything the bot does in answer; pushes from another process included

T = TypeVar("T")


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn` in a thread of its own, where it may run an event loop (see the docstring)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


# The browser ------------------------------------------------------------------------------

def require_browser() -> None:
    """Skip without Chromium or Playwright, except on CI (CI=true), where these tests must run."""
    missing = [what for what, there in [("the playwright package", sync_playwright is not None),
                                        (str(CHROMIUM), CHROMIUM.is_file())] if not there]
    if missing:
        reason = f"the web chat's browser tests need {' and '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: they must run here)", pytrace=False)
        pytest.skip(reason)


@contextlib.contextmanager
def launch_browser() -> Iterator[Browser]:
    """Headless Debian Chromium (Playwright cannot download its own here)."""
    require_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def visitor(browser: Browser, **options: Any) -> Iterator[BrowserContext]:
    """A new visitor: a fresh browser profile (no cookie) on a phone."""
    context = browser.new_context(**{**PHONE, **options})
    context.set_default_timeout(WAIT_MS)
    try:
        yield context
    finally:
        context.close()


# The server -------------------------------------------------------------------------------

class WebServer:
    """`wasl serve` with the web chat on, on a free port of 127.0.0.1 and its own database."""

    def __init__(self, db: str, log: Path, **env: str) -> None:
        self.db, self.log, self.port = db, log, free_port()
        # Nothing of the developer's own WASL_* settings (a Telegram token...) reaches it,
        # but the tests' data key: the tests read and write the same database
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith("WASL_") or k == "WASL_DATA_KEY"}
        self.env = {**clean, "PYTHONUTF8": "1", "WASL_DATABASE_URL": db, "WASL_PROFILE": "bakkah",
                    "WASL_LOG_LEVEL": "INFO",
                    # A whole intake in well under a minute is a test, not a person: the
                    # per-browser limit (20 a minute) is tested on its own, with a low one.
                    "WASL_WEB_MESSAGES_PER_MINUTE": "1000", "WASL_WEB_IP_MESSAGES_PER_MINUTE": "1000",
                    **env}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> WebServer:
        # The port free_port() found free may be taken (by a parallel test) before the server
        # binds it; the process then ends, and starts again on another.
        try:
            for _ in range(5):
                if self._launch():
                    return self
                self.port = free_port()
            raise RuntimeError(self.log.read_text())
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> bool:
        logged = self.log.stat().st_size if self.log.exists() else 0
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
                                     cwd=ROOT, env=self.env, stdout=self.log.open("ab"),
                                     stderr=subprocess.STDOUT)
        return wait_listening(self.proc, self.log, logged, self.port, 90)  # generous: 2 CPUs

    def restart(self) -> None:
        """Stop, then start again on the same port (an open page reconnects to it)."""
        self.stop()
        if not self._launch():
            raise RuntimeError(f"port {self.port} was taken while the server was down")

    def stop(self) -> None:
        interrupt(self.proc)

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# The page ---------------------------------------------------------------------------------

# The first bot message at or after index `after` of the log whose text has `want`: its text.
_BOT_AFTER = """([after, want]) => {
  const all = [...document.querySelectorAll('#wasl-log .wasl-msg')].slice(after);
  const hit = all.find(m => m.classList.contains('wasl-bot') &&
                            (m.querySelector('.wasl-text') || m).textContent.includes(want));
  return hit ? (hit.querySelector('.wasl-text') || hit).textContent : null;
}"""

# The first of my messages at or after index `after` whose text has `want`.
_MINE_AFTER = """([after, want]) => {
  const all = [...document.querySelectorAll('#wasl-log .wasl-msg')].slice(after);
  const hit = all.find(m => m.classList.contains('wasl-me') && m.textContent.includes(want));
  return hit ? (hit.querySelector('.wasl-text') || hit).textContent : null;
}"""

_TRANSCRIPT = """() => [...document.querySelectorAll('#wasl-log .wasl-msg')].map(m => [
  m.classList.contains('wasl-bot') ? 'bot' : m.classList.contains('wasl-me') ? 'me' : '?',
  (m.querySelector('.wasl-text') || m).textContent])"""


class Chat:
    """One open /chat page, used as a visitor would: read the log, type, press, attach."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []  # alert(), confirm()... nothing may ever open one
        self.errors: list[str] = []  # uncaught script errors and console errors
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}")
                if msg.type == "error" else None)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    @classmethod
    def open(cls, context: BrowserContext, base_url: str) -> Chat:
        """Open /chat in a new tab of this visitor's browser and wait for its event stream."""
        chat = cls(context.new_page())
        chat.page.goto(f"{base_url}/chat")
        chat.wait_connected()
        return chat

    def wait_connected(self) -> None:
        expect(self.page.locator("html")).to_have_attribute("data-connected", "1", timeout=WAIT_MS)

    def reload(self) -> None:
        self.page.reload()
        self.wait_connected()

    def close(self) -> None:
        self.page.close()

    # reading ------------------------------------------------------------------------------
    @property
    def html(self) -> Any:
        return self.page.locator("html")

    @property
    def bot(self) -> Any:
        return self.page.locator("#wasl-log .wasl-msg.wasl-bot")

    @property
    def mine(self) -> Any:
        return self.page.locator("#wasl-log .wasl-msg.wasl-me")

    @property
    def notice(self) -> Any:
        return self.page.locator("#wasl-notice")

    def count(self) -> int:
        return self.page.locator("#wasl-log .wasl-msg").count()

    def transcript(self) -> list[tuple[str, str]]:
        """Every message on the page, in order: ("bot" | "me", its text)."""
        return [tuple(pair) for pair in self.page.evaluate(_TRANSCRIPT)]

    @property
    def buttons(self) -> Any:
        """The buttons on the page: those of the latest question (the page removes older
        ones; an announcement that comes after a question leaves its buttons in place)."""
        return self.page.locator("#wasl-log .wasl-bot .wasl-choices").last.locator("button.wasl-choice")

    def choices(self) -> list[str]:
        """The labels of the buttons of the latest question, once there are some."""
        self.buttons.first.wait_for(state="visible")
        return [b.strip() for b in self.buttons.all_text_contents()]

    def choice(self, label: str) -> Any:
        """The button `label` (exactly) of the latest question."""
        exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
        return self.buttons.filter(has_text=exact)

    def wait_bot(self, want: str, after: int = 0, timeout: float = WAIT_MS) -> str:
        """Wait for a bot message at or after position `after` that says `want`; its text."""
        try:
            found = self.page.wait_for_function(_BOT_AFTER, arg=[after, want], timeout=timeout)
        except Exception as exc:
            raise AssertionError(f"no bot message with {want!r} after #{after} in "
                                 f"{timeout / 1000:.0f} s; the page shows:\n{self.dump()}") from exc
        return found.json_value()

    def wait_mine(self, want: str, after: int = 0) -> str:
        try:
            found = self.page.wait_for_function(_MINE_AFTER, arg=[after, want], timeout=WAIT_MS)
        except Exception as exc:
            raise AssertionError(f"my message {want!r} is not shown after #{after}; "
                                 f"the page shows:\n{self.dump()}") from exc
        return found.json_value()

    def dump(self) -> str:
        try:
            lines = [f"{who}: {text[:160]!r}" for who, text in self.transcript()[-12:]]
        except Exception as exc:  # the page itself is gone
            return f"(cannot read the page: {exc})"
        return "\n".join(lines + [f"notice: {self.notice.text_content() if self.notice.count() else None!r}",
                                  f"errors: {self.errors}"])

    # acting -------------------------------------------------------------------------------
    def type(self, text: str, button: bool = False) -> int:
        """Type `text` and send it (Enter, or the send button); wait until it is shown as
        mine. The position it was sent at, for `wait_bot`."""
        before = self.count()
        box = self.page.locator("#wasl-input")
        box.fill(text)
        if button:
            self.page.locator("#wasl-send").click()
        else:
            box.press("Enter")
        self.wait_mine(text, before)
        return before

    def say(self, text: str, reply: str, button: bool = False) -> str:
        """Type and send `text`; the bot's answer, which must say `reply`."""
        return self.wait_bot(reply, self.type(text, button))

    def press(self, label: str, reply: str) -> str:
        """Press the button `label` of the latest bot message; the answer, saying `reply`."""
        button = self.choice(label)
        expect(button).to_have_count(1, timeout=WAIT_MS)
        before = self.count()
        button.click()
        return self.wait_bot(reply, before)

    def attach(self, path: Path, reply: str) -> str:
        """Send a file through #wasl-file (the upload starts on change); the answer."""
        before = self.count()
        self.page.set_input_files("#wasl-file", str(path))
        self.wait_mine(path.name, before)
        return self.wait_bot(reply, before)

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), animations="disabled", caret="hide")
        return path


# Sample files -----------------------------------------------------------------------------

def id_card(path: Path) -> Path:
    """A small but real photo of an "ID card" (JPEG or PNG by the file's suffix)."""
    from PIL import Image, ImageDraw  # Pillow comes with matplotlib, a dependency

    image = Image.new("RGB", (320, 200), (236, 242, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 311, 191), outline=(0, 108, 53), width=4)
    draw.rectangle((24, 48, 104, 148), fill=(170, 180, 190))  # the face
    for y in range(52, 150, 18):
        draw.rectangle((120, y, 292 - (y % 5) * 12, y + 8), fill=(60, 60, 60))
    draw.text((24, 16), "ID 1234567897", fill=(0, 0, 0))
    image.save(path, quality=80) if path.suffix.lower() in (".jpg", ".jpeg") else image.save(path)
    return path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
