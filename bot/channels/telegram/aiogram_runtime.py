"""The Bot API through aiogram 3 (for deployments already built on it)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot.channels.errors import Rejected, RetryLater, TemporaryFailure, Unreachable
from bot.channels.telegram.client import ALLOWED_UPDATES

T = TypeVar("T")


async def _call(awaitable: Awaitable[T]) -> T:
    """Run one Bot API call, with aiogram's errors turned into the outbox's."""
    try:
        return await awaitable
    except TelegramRetryAfter as exc:
        raise RetryLater(float(exc.retry_after), str(exc)) from exc
    except TelegramForbiddenError as exc:
        raise Unreachable(str(exc)) from exc
    except (TelegramBadRequest, TelegramNotFound) as exc:
        raise Rejected(str(exc)) from exc
    except (TelegramNetworkError, TelegramAPIError) as exc:
        raise TemporaryFailure(str(exc)) from exc


def _json(update: Update) -> dict[str, Any]:
    return update.model_dump(mode="json", exclude_none=True, by_alias=True)


def _scope(chat_id: str | None) -> BotCommandScopeChat | BotCommandScopeDefault:
    """Whom a command menu is for: one chat, or every chat."""
    return BotCommandScopeChat(chat_id=int(chat_id)) if chat_id else BotCommandScopeDefault()


class AiogramClient:
    def __init__(self, token: str, api_base: str) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token, session=session)

    async def start(self) -> dict[str, Any]:
        me = await _call(self.bot.get_me())
        return me.model_dump(mode="json", exclude_none=True)

    async def close(self) -> None:
        await self.bot.session.close()

    def parse(self, update: dict[str, Any]) -> dict[str, Any]:
        return _json(Update.model_validate(update, context={"bot": self.bot}))

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        updates = await _call(self.bot.get_updates(
            offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES,
            request_timeout=timeout + 15))
        return [_json(u) for u in updates]

    async def send_message(self, chat_id: str, text: str, markup: dict[str, Any] | None,
                           thread_id: str | None = None) -> str:
        message = await _call(self.bot.send_message(
            chat_id=int(chat_id), text=text, reply_markup=self._markup(markup), parse_mode=None,
            message_thread_id=int(thread_id) if thread_id else None))
        return str(message.message_id)

    async def send_file(self, chat_id: str, name: str, mime: str, content: bytes | None,
                        caption: str, thread_id: str | None = None,
                        file_id: str | None = None) -> tuple[str, str | None]:
        thread = int(thread_id) if thread_id else None
        file = file_id or BufferedInputFile(content or b"", filename=name)
        if mime in ("image/jpeg", "image/png", "image/webp"):
            message = await _call(self.bot.send_photo(int(chat_id), file, caption=caption,
                                                             message_thread_id=thread))
            kept = message.photo[-1].file_id if message.photo else None
        else:
            message = await _call(self.bot.send_document(int(chat_id), file, caption=caption,
                                                                message_thread_id=thread))
            kept = message.document.file_id if message.document else None
        return str(message.message_id), kept

    @staticmethod
    def _markup(markup: dict[str, Any] | None) -> Any:
        if not markup:
            return None
        if "inline_keyboard" in markup:
            return InlineKeyboardMarkup.model_validate(markup)
        if "keyboard" in markup:
            return ReplyKeyboardMarkup.model_validate(markup)
        return ReplyKeyboardRemove(remove_keyboard=True)

    async def create_topic(self, chat_id: str, name: str) -> str:
        topic = await _call(self.bot.create_forum_topic(chat_id=int(chat_id), name=name[:128]))
        return str(topic.message_thread_id)

    async def answer_callback(self, callback_id: str) -> None:
        await _call(self.bot.answer_callback_query(callback_id))

    async def remove_keyboard(self, chat_id: str, message_id: str) -> None:
        await _call(self.bot.edit_message_reply_markup(
            chat_id=int(chat_id), message_id=int(message_id), reply_markup=None))

    async def download(self, file_id: str) -> bytes:
        file = await _call(self.bot.get_file(file_id))
        if not file.file_path:
            raise TemporaryFailure("Telegram gave no file path")
        buffer = await _call(self.bot.download_file(file.file_path))
        assert buffer is not None
        return buffer.getvalue()

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None,
                           chat_id: str | None = None) -> None:
        await _call(self.bot.set_my_commands(
            [BotCommand(command=name, description=text) for name, text in commands],
            scope=_scope(chat_id), language_code=language))

    async def delete_commands(self, language: str | None, chat_id: str | None = None) -> None:
        await _call(self.bot.delete_my_commands(scope=_scope(chat_id), language_code=language))

    async def set_webhook(self, url: str, secret: str) -> None:
        await _call(self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES))

    async def delete_webhook(self) -> None:
        await _call(self.bot.delete_webhook())
