"""The Bot API through python-telegram-bot 22 (the default runtime)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardMarkup,
    InputFile,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.errors import Rejected, RetryLater, TemporaryFailure, Unreachable
from bot.channels.telegram.client import ALLOWED_UPDATES
from bot.channels.telegram.ptb_request import AiohttpRequest

T = TypeVar("T")


async def _call(awaitable: Awaitable[T]) -> T:
    """Run one Bot API call, with PTB's errors turned into the outbox's."""
    try:
        return await awaitable
    except RetryAfter as exc:
        wait = exc.retry_after
        raise RetryLater(wait.total_seconds() if isinstance(wait, timedelta) else float(wait),
                         str(exc)) from exc
    except Forbidden as exc:
        raise Unreachable(str(exc)) from exc
    except BadRequest as exc:  # (a subclass of NetworkError in PTB: caught first)
        raise Rejected(str(exc)) from exc
    except (NetworkError, TelegramError) as exc:
        raise TemporaryFailure(str(exc)) from exc


def _scope(chat_id: str | None) -> BotCommandScopeChat | BotCommandScopeDefault:
    """Whom a command menu is for: one chat, or every chat."""
    return BotCommandScopeChat(int(chat_id)) if chat_id else BotCommandScopeDefault()


class PtbClient:
    def __init__(self, token: str, api_base: str) -> None:
        base = api_base.rstrip("/")
        self.bot = Bot(
            token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
            request=AiohttpRequest(connection_pool_size=16, read_timeout=20),
            get_updates_request=AiohttpRequest(connection_pool_size=2, read_timeout=40),
        )

    async def start(self) -> dict[str, Any]:
        await _call(self.bot.initialize())
        return self.bot.bot.to_dict()

    async def close(self) -> None:
        await self.bot.shutdown()

    def parse(self, update: dict[str, Any]) -> dict[str, Any]:
        parsed = Update.de_json(update, self.bot)
        if parsed is None:
            raise ValueError("not an update")
        return parsed.to_dict()

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        updates = await _call(self.bot.get_updates(
            offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES))
        return [u.to_dict() for u in updates]

    async def send_message(self, chat_id: str, text: str, markup: dict[str, Any] | None,
                           thread_id: str | None = None) -> str:
        message = await _call(self.bot.send_message(
            chat_id=int(chat_id), text=text, reply_markup=self._markup(markup),
            message_thread_id=int(thread_id) if thread_id else None))
        return str(message.message_id)

    async def send_file(self, chat_id: str, name: str, mime: str, content: bytes | None,
                        caption: str, thread_id: str | None = None,
                        file_id: str | None = None) -> tuple[str, str | None]:
        thread = int(thread_id) if thread_id else None
        file = file_id or InputFile(content or b"", filename=name)
        if mime in ("image/jpeg", "image/png", "image/webp"):
            message = await _call(self.bot.send_photo(int(chat_id), file, caption=caption,
                                                             message_thread_id=thread))
            kept = message.photo[-1].file_id if message.photo else None
        else:
            message = await _call(self.bot.send_document(int(chat_id), file, caption=caption,
                                                                message_thread_id=thread))
            kept = message.document.file_id if message.document else None
        return str(message.message_id), kept

    def _markup(self, markup: dict[str, Any] | None) -> Any:
        if not markup:
            return None
        if "inline_keyboard" in markup:
            return InlineKeyboardMarkup.de_json(markup, self.bot)
        if "keyboard" in markup:
            return ReplyKeyboardMarkup.de_json(markup, self.bot)
        return ReplyKeyboardRemove()

    async def create_topic(self, chat_id: str, name: str) -> str:
        topic = await _call(self.bot.create_forum_topic(int(chat_id), name[:128]))
        return str(topic.message_thread_id)

    async def answer_callback(self, callback_id: str) -> None:
        await _call(self.bot.answer_callback_query(callback_id))

    async def remove_keyboard(self, chat_id: str, message_id: str) -> None:
        await _call(self.bot.edit_message_reply_markup(
            chat_id=int(chat_id), message_id=int(message_id), reply_markup=None))

    async def download(self, file_id: str) -> bytes:
        file = await _call(self.bot.get_file(file_id))
        return bytes(await _call(file.download_as_bytearray()))

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None,
                           chat_id: str | None = None) -> None:
        await _call(self.bot.set_my_commands(
            [BotCommand(name, description) for name, description in commands],
            scope=_scope(chat_id), language_code=language))

    async def delete_commands(self, language: str | None, chat_id: str | None = None) -> None:
        await _call(self.bot.delete_my_commands(scope=_scope(chat_id), language_code=language))

    async def set_webhook(self, url: str, secret: str) -> None:
        await _call(self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES))

    async def delete_webhook(self) -> None:
        await _call(self.bot.delete_webhook())
