"""Wasl on Telegram: updates come in by long polling or webhook, replies leave
through the outbox within Telegram's limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.app import App
from bot.channels.errors import DeliveryError, RetryLater, TemporaryFailure
from bot.channels.telegram import CHANNEL, command_menu, incoming, messages
from bot.channels.telegram.client import TelegramClient
from bot.config import Settings
from bot.outbox import Limits, Sender
from conversations import desk
from conversations.base import Reply, StaffView
from conversations.render import COMMANDS
from storage.db import Unavailable

log = logging.getLogger(__name__)
# Each menu in Arabic for every language without its own (None) and for Arabic, and in English.
MENU_LANGUAGES = (None, "ar", "en")
# The staff group's menu: what works about the case of a topic (or of the bot's message
# replied to). The queue, one's own cases, searches and admin work stay in private chats.
GROUP_COMMANDS = frozenset({"/claim", "/release", "/transfer", "/close", "/file", "/note",
                            "/canned", "/say", "/request", "/history", "/read", "/help"})
MENU_RETRY_LIMIT = 30.0  # seconds: a longer "retry after" at start skips that chat's menu


class TelegramService:
    def __init__(self, app: App, client: TelegramClient, settings: Settings) -> None:
        self.app, self.client, self.settings = app, client, settings
        limits = Limits(settings.telegram_rate, settings.telegram_chat_interval,
                        settings.telegram_group_per_minute, settings.outbox_lease,
                        settings.outbox_max_attempts, settings.outbox_backoff)
        self.sender = Sender(app.outbox, CHANNEL, self._send, limits, app.broadcasts.finish)
        self.max_bytes = int(app.profile.max_file_mb * 1024 * 1024)
        self._uploaded: dict[int, tuple[str, str]] = {}  # document id -> (mime, Telegram file id)
        self.wake: Callable[[], None] = self.sender.wake  # `wasl serve` wakes every channel
        self._menus_for: tuple[frozenset[tuple[str, str]], frozenset[str]] | None = None
        self._skipped: dict[str, list[desk.CommandSpec] | None] = {}  # chats Telegram refused

    async def start(self) -> dict[str, Any]:
        """Connect, and register the command menus in Arabic (the default) and English: the
        beneficiaries' in every chat, the team's in their own chats and the staff group."""
        me = await self.client.start()
        for lang in MENU_LANGUAGES:
            _ = self.app.translations[lang or "ar"].gettext
            await self.client.set_commands(command_menu((n, _(t)) for n, t in COMMANDS), lang)
        await self.refresh_staff_menus()
        return me

    async def refresh_staff_menus(self) -> list[str]:
        """Each staff member on Telegram gets their role's commands as the menu of their
        private chat (its id is their sender id), the staff group gets the group's, and a
        former staff member's chat goes back to the beneficiaries' menu. Run at every start;
        call it again when the team changes. A chat Telegram refuses (one that never talked
        to the bot) is skipped: the chats whose menu could not be set."""
        team, former = await self._team()
        menus: list[tuple[str, list[desk.CommandSpec] | None]] = [
            (member.sender_id, desk.menu_commands(member.role)) for member in team]
        if (group := self.app.profile.staff_group) is not None:
            menus.append((str(group.telegram_chat_id), [
                spec for spec in desk.menu_commands(desk.RESEARCHER) if spec.name in GROUP_COMMANDS]))
        menus += [(sender_id, None) for sender_id in former]
        self._skipped = {chat: specs for chat, specs in menus
                         if not await self._chat_menu(chat, specs)}
        self._menus_for = _roles(team, former)  # only once every chat was tried
        return list(self._skipped)

    async def _team(self) -> tuple[list[StaffView], list[str]]:
        """The team on Telegram, and the chats of former staff members."""
        async with self.app.db.unit_of_work() as uow:
            team = [s for s in await uow.desk.all_staff() if s.channel == CHANNEL]
            return team, await uow.desk.former_staff(CHANNEL)

    async def follow_team(self) -> None:
        """Until cancelled: when `wasl staff` changes the team while the bot runs (someone
        added, removed, given another role), every chat's menu follows within
        `telegram_team_check` seconds, without a restart; a chat Telegram refused (a new
        researcher who has not opened the bot yet) is tried again at each look."""
        while True:
            await asyncio.sleep(self.settings.telegram_team_check)
            try:
                if _roles(*await self._team()) != self._menus_for:
                    skipped = await self.refresh_staff_menus()
                    log.info("the team changed: staff menus set again (%d chats skipped)",
                             len(skipped))
                elif self._skipped:
                    self._skipped = {chat: specs for chat, specs in self._skipped.items()
                                     if not await self._chat_menu(chat, specs)}
            except Unavailable:  # busy: the next look will do
                continue
            except Exception:  # the loop must outlive one bad look (Telegram down)
                log.exception("could not follow the team's menus")

    async def _chat_menu(self, chat_id: str, specs: list[desk.CommandSpec] | None) -> bool:
        """One chat's menu in each language, or none (None): whether Telegram took it."""
        if not chat_id.lstrip("-").isdigit():
            log.warning("no command menu for %r: not a Telegram chat id", chat_id)
            return False
        try:
            for lang in MENU_LANGUAGES:
                if specs is None:
                    await self._patiently(self.client.delete_commands, lang, chat_id)
                else:
                    await self._patiently(self.client.set_commands, self._menu(specs, lang), lang,
                                          chat_id)
        except DeliveryError as exc:
            log.warning("could not set the command menu of Telegram chat %s: %s", chat_id, exc)
            return False
        return True

    def _menu(self, specs: list[desk.CommandSpec], lang: str | None) -> list[tuple[str, str]]:
        """Staff commands with their help (or their name in words) in one language."""
        _ = self.app.translations[lang or "ar"].gettext
        return command_menu((spec.name, _(words) if (words := spec.help or spec.title) else "")
                            for spec in specs)

    @staticmethod
    async def _patiently(call: Callable[..., Awaitable[None]], *args: Any) -> None:
        """One Bot API call, once more after a short "retry after"."""
        try:
            await call(*args)
        except RetryLater as exc:
            if exc.seconds > MENU_RETRY_LIMIT:
                raise
            await asyncio.sleep(exc.seconds)
            await call(*args)

    async def handle(self, update: dict[str, Any]) -> None:
        """One update: answer a pressed button at once, then the conversation.
        Raises TemporaryFailure when a file could not be fetched (so it is retried)."""
        try:
            group = self.app.profile.staff_group
            got = await incoming(update, self.client, self.max_bytes,
                                 group.telegram_chat_id if group else None)
        except DeliveryError:
            raise
        except (KeyError, TypeError, ValueError) as exc:  # a shape we do not know: skip it
            log.warning("skipped an update we cannot read (%s): %s", type(exc).__name__,
                        update.get("update_id"))
            return
        if got is None:
            return
        if got.callback_id:
            await self._settle_button(got.callback_id, got.inbound.chat_id, got.message_id)
        await self.app.router.handle(got.inbound)
        self.wake()

    async def _settle_button(self, callback_id: str, chat_id: str, message_id: str | None) -> None:
        """Stop the spinner and take the keyboard off, so it cannot be pressed twice."""
        try:
            await self.client.answer_callback(callback_id)
            if message_id:
                await self.client.remove_keyboard(chat_id, message_id)
        except DeliveryError as exc:  # an old query or an edited message: the press still counts
            log.info("could not settle a button: %s", exc)

    async def _send(self, chat_id: str, reply: Reply) -> str | None:
        thread = await self._topic(chat_id, reply)
        if reply.document_id is not None:  # the text is its caption (1024 characters at most)
            known = self._uploaded.get(reply.document_id)
            if known is not None:  # an announcement's photo: uploaded once, then reused
                ref, _ = await self.client.send_file(chat_id, "", known[0], None,
                                                     reply.text[:1024], thread, file_id=known[1])
                return ref
            async with self.app.db.unit_of_work() as uow:
                doc = await uow.document(reply.document_id)
            if doc is not None:
                ref, file_id = await self.client.send_file(chat_id, doc.name, doc.mime,
                                                           doc.content, reply.text[:1024], thread)
                if file_id and reply.announcement:
                    self._uploaded[reply.document_id] = (doc.mime, file_id)
                return ref
        ref = None
        for text, markup in messages(reply):
            ref = await self.client.send_message(chat_id, text, markup, thread)
        return ref

    async def _topic(self, chat_id: str, reply: Reply) -> str | None:
        """The staff-group topic of the case a message is about; created with the case."""
        group = self.app.profile.staff_group
        if reply.case_id is None or group is None or not group.topics:
            return None
        async with self.app.db.unit_of_work() as uow:
            topic = await uow.desk.topic_of(reply.case_id)
        if topic is None and reply.open_topic:
            topic = await self.client.create_topic(chat_id, reply.open_topic)
            async with self.app.db.unit_of_work() as uow:
                await uow.desk.set_topic(reply.case_id, topic)
        return topic

    async def poll(self) -> None:
        """Long polling. The offset moves past an update only after it was handled and
        committed; after a crash, Telegram sends it again and the dedupe skips it."""
        await self.client.delete_webhook()
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.client.get_updates(offset, self.settings.telegram_poll_timeout)
                for update in updates:
                    await self.handle(update)
                    offset = int(update["update_id"]) + 1
                failures = 0
            except RetryLater as exc:
                await asyncio.sleep(exc.seconds)
            except (TemporaryFailure, DeliveryError, Unavailable) as exc:  # the offset stays
                failures += 1
                log.warning("polling failed (%s); retrying", exc)
                await asyncio.sleep(min(2 ** failures, 60))


async def run_polling(app: App, client: TelegramClient, settings: Settings) -> None:
    """`wasl run` with a token: poll and deliver until stopped."""
    service = TelegramService(app, client, settings)
    me = await service.start()
    log.warning("Wasl is on Telegram as @%s (%s runtime, polling)", me.get("username"),
                settings.telegram_runtime)
    tasks = [asyncio.create_task(service.poll()), asyncio.create_task(service.sender.run()),
             asyncio.create_task(app.scheduler.run(service.sender.wake)),
             asyncio.create_task(app.digest.run(service.sender.wake)),
             asyncio.create_task(service.follow_team())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()


def _roles(team: list[StaffView], former: list[str]) -> tuple[frozenset[tuple[str, str]],
                                                              frozenset[str]]:
    """What the staff menus depend on: who has which role, and who no longer has one."""
    return frozenset((s.sender_id, s.role) for s in team), frozenset(former)
