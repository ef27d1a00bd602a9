"""Run Wasl as a real process against the fake Bot API, and talk to it as a Telegram user."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import and_, func, or_, select

from bot.channels.telegram import CHANNEL
from storage import models as m
from storage.db import Database
from tests.fakes.telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
SECRET = "wasl-webhook-secret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc: subprocess.Popen, log: Path, logged: int, port: int,
                   timeout: float) -> bool:
    """True once a `wasl serve` process listens on its port (uvicorn logs so after binding;
    whatever else might answer there is not it); False if it ended because the port was
    taken. `logged`: the size of its log before it started."""
    listening = f"Uvicorn running on http://127.0.0.1:{port}".encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with log.open("rb") as f:
            f.seek(logged)
            out = f.read()
        if listening in out:
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
            return True
        if proc.poll() is not None:
            if b"address already in use" in out.lower():
                return False
            raise RuntimeError(log.read_text(errors="replace"))
        time.sleep(0.05)
    raise TimeoutError(f"wasl serve did not start listening:\n{log.read_text(errors='replace')}")


def interrupt(proc: subprocess.Popen | None) -> None:
    """Stop a process the tests started as Ctrl+C would (it shuts down in order), killed
    if it has not ended 10 s later."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class WaslProcess:
    """`wasl run` (polling) or `wasl serve` (webhook), pointed at the fake."""

    def __init__(self, fake: FakeTelegram, db: str, runtime: str, mode: str, log: Path,
                 **env: str) -> None:
        self.fake, self.mode, self.port = fake, mode, free_port()
        self.env = {**os.environ, "PYTHONUTF8": "1", "WASL_TELEGRAM_TOKEN": TOKEN,
                    "WASL_TELEGRAM_API_BASE": fake.url, "WASL_TELEGRAM_RUNTIME": runtime,
                    "WASL_DATABASE_URL": db, "WASL_PROFILE": "bakkah",
                    # Sending limits as short for a staff group as for a private chat: no
                    # test here is about them, and a group's 3 s (20 a minute) adds up.
                    "WASL_TELEGRAM_CHAT_INTERVAL": "0.05", "WASL_TELEGRAM_GROUP_PER_MINUTE": "1200",
                    "WASL_TELEGRAM_POLL_TIMEOUT": "1",
                    "WASL_LOG_LEVEL": "INFO", **env}
        if mode == "webhook":
            self.env["WASL_TELEGRAM_WEBHOOK_URL"] = f"http://127.0.0.1:{self.port}"
            self.env["WASL_TELEGRAM_WEBHOOK_SECRET"] = SECRET
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> WaslProcess:
        # A webhook server binds the port free_port() found free; if something (a parallel
        # test) took it meanwhile, the bind fails and the process ends: start it on another.
        try:
            for _ in range(5):
                if self._launch():
                    return self
                self.port = free_port()
                self.env["WASL_TELEGRAM_WEBHOOK_URL"] = f"http://127.0.0.1:{self.port}"
            raise RuntimeError(self.log.read_text())
        except BaseException:
            if self.proc and self.proc.poll() is None:  # not left running when it failed to start
                self.kill()
            raise

    def _launch(self) -> bool:
        """Start the process and wait until it polls or listens; False if its port was taken."""
        args = ["run"] if self.mode == "polling" else ["serve", "--port", str(self.port)]
        method = "getUpdates" if self.mode == "polling" else "setWebhook"
        before = len(self.fake.called(method))
        logged = self.log.stat().st_size if self.log.exists() else 0
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=ROOT, env=self.env,
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        try:
            # Generous: with parallel tests on few CPUs, a start-up (aiogram's import alone is
            # 4 s of CPU) has been seen to take over 30 s.
            self.fake.wait(lambda: len(self.fake.called(method)) > before, timeout=90)
            if self.mode == "webhook":
                # setWebhook is called from the app's startup, before uvicorn binds and listens.
                return self._wait_listening(logged, timeout=30)
        except TimeoutError:
            raise RuntimeError(self.log.read_text()) from None
        return True

    def _wait_listening(self, logged: int, timeout: float) -> bool:
        assert self.proc
        return wait_listening(self.proc, self.log, logged, self.port, timeout)

    def kill(self) -> None:
        assert self.proc
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        interrupt(self.proc)

    def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return httpx.post(f"http://127.0.0.1:{self.port}/webhooks/telegram", json=update,
                          headers=headers, timeout=30)


class User:
    """A Telegram user in a private chat with the bot."""

    def __init__(self, fake: FakeTelegram, bot: WaslProcess, uid: int = 555000111) -> None:
        self.fake, self.bot, self.uid = fake, bot, uid

    def deliver(self, update: dict[str, Any]) -> None:
        if self.bot.mode == "polling":
            self.fake.handled(self.fake.push(update), timeout=30)
        else:
            assert self.bot.post(update).status_code == 200

    def _exchange(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver one update; the messages the bot sent back (once it had nothing more to send)."""
        before = len(self.fake.sent_to(self.uid))
        self.deliver(update)  # handled and committed: its replies are in the outbox
        self.fake.wait(lambda: len(self.fake.sent_to(self.uid)) > before, timeout=30)
        self.settle()
        return self.fake.sent_to(self.uid)[before:]

    def settle(self, timeout: float = 30) -> None:
        """Wait until no message to this chat is due and undelivered in the bot's outbox. A row
        is marked sent only after its sendMessage was answered, so the fake has them all."""
        db = self.bot.env["WASL_DATABASE_URL"]
        deadline = time.monotonic() + timeout
        while undelivered(db, self.uid):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot still has messages to send to {self.uid}")
            count = len(self.fake.sent_to(self.uid))
            with contextlib.suppress(TimeoutError):  # until the next message arrives, or a while
                self.fake.wait(lambda n=count: len(self.fake.sent_to(self.uid)) > n, timeout=0.1)

    def say(self, text: str) -> list[dict[str, Any]]:
        return self._exchange(self.fake.text_update(self.uid, text))

    def contact(self, phone: str, owner: int | None = None) -> list[dict[str, Any]]:
        return self._exchange(self.fake.contact_update(self.uid, phone, owner))

    def photo(self, content: bytes, caption: str = "") -> list[dict[str, Any]]:
        return self._exchange(self.fake.photo_update(self.uid, content, caption))

    def voice(self, content: bytes) -> list[dict[str, Any]]:
        return self._exchange(self.fake.voice_update(self.uid, content))

    def document(self, content: bytes, name: str, mime: str, size: int | None = None):
        return self._exchange(self.fake.document_update(self.uid, content, name, mime, size))

    def press(self, choice: str, message: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        message = message or self.latest_with_buttons()
        data = f"c:{choice}"
        buttons = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"]
                   for b in row]
        assert data in buttons, (choice, buttons)
        return self._exchange(self.fake.press_update(self.uid, message, data))

    def latest_with_buttons(self) -> dict[str, Any]:
        mine = [p for p in self.fake.sent_to(self.uid) if "inline_keyboard" in (p.get("reply_markup") or {})]
        assert mine, "no message with buttons"
        last = mine[-1]
        stored = [m for (chat, _), m in self.fake.messages.items()
                  if chat == str(self.uid) and m.get("text") == last["text"]]
        message = dict(stored[-1])
        message["reply_markup"] = last["reply_markup"]  # as sent, even if removed since
        return message


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", b.get("text")) for row in
            markup.get("inline_keyboard", markup.get("keyboard", [])) for b in row]


def undelivered(db: str, chat_id: int | str, channel: str = CHANNEL) -> int:
    """A chat's outbox rows (Telegram's by default) that are due now or being sent, not
    yet delivered."""
    async def count() -> int:
        database = Database(db)
        try:
            async with database.session() as session:
                row = m.OutboxMessage
                return await session.scalar(
                    select(func.count()).select_from(row).where(
                        row.channel == channel, row.chat_id == str(chat_id),
                        or_(and_(row.status == "pending", row.available_at <= datetime.now(UTC)),
                            row.status == "sending"))) or 0
        finally:
            await database.close()
    return asyncio.run(count())
