"""The Bot API calls Wasl makes, behind one interface with two runtimes:
python-telegram-bot (ptb_runtime.py, the default) and aiogram (aiogram_runtime.py).

Updates and keyboards cross this interface as Bot API JSON (dicts), and errors
as bot.channels.errors, so nothing above it knows which library is in use.
"""

from __future__ import annotations

from typing import Any, Protocol

ALLOWED_UPDATES = ["message", "callback_query"]


class TelegramClient(Protocol):
    async def start(self) -> dict[str, Any]:
        """Open the connection; the bot's own user (getMe)."""

    async def close(self) -> None: ...

    def parse(self, update: dict[str, Any]) -> dict[str, Any]:
        """A webhook body read through the runtime's Update type, back as Bot API JSON."""

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]: ...

    async def send_message(self, chat_id: str, text: str, markup: dict[str, Any] | None,
                           thread_id: str | None = None) -> str:
        """Send plain text (no parse mode), into a forum topic if given; the new message's id."""

    async def send_file(self, chat_id: str, name: str, mime: str, content: bytes | None,
                        caption: str, thread_id: str | None = None,
                        file_id: str | None = None) -> tuple[str, str | None]:
        """A photo (sendPhoto) or any other file (sendDocument), uploaded from `content` or
        sent again by the `file_id` Telegram gave for an earlier upload; the message id and
        the file id to reuse."""

    async def create_topic(self, chat_id: str, name: str) -> str:
        """A forum topic in a supergroup (createForumTopic); its message_thread_id."""

    async def answer_callback(self, callback_id: str) -> None: ...

    async def remove_keyboard(self, chat_id: str, message_id: str) -> None: ...

    async def download(self, file_id: str) -> bytes: ...

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None,
                           chat_id: str | None = None) -> None:
        """setMyCommands: the command menu (names without the slash, descriptions) for one
        language (None: every language without its own), in every chat
        (BotCommandScopeDefault) or, given `chat_id`, in that chat only (BotCommandScopeChat)."""

    async def delete_commands(self, language: str | None, chat_id: str | None = None) -> None:
        """deleteMyCommands for the same scope: the chat falls back to the default menu."""

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...


def make_client(runtime: str, token: str, api_base: str) -> TelegramClient:
    """The runtime named by WASL_TELEGRAM_RUNTIME, pointed at `api_base`."""
    if runtime == "ptb":
        from bot.channels.telegram.ptb_runtime import PtbClient
        return PtbClient(token, api_base)
    if runtime == "aiogram":
        from bot.channels.telegram.aiogram_runtime import AiogramClient
        return AiogramClient(token, api_base)
    raise ValueError(f"unknown Telegram runtime {runtime!r}: use ptb or aiogram")
