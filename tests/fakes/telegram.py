"""A local fake of the Telegram Bot API, the test double for the Telegram channel.

It serves the methods Wasl uses with the Bot API's real JSON shapes and error
bodies, keeps every call, queues updates for getUpdates (offset semantics,
long polling) and can inject faults: 429 with retry_after, 403, 5xx, a slow
reply. It runs uvicorn in a thread on 127.0.0.1, so the bot under test (in
this process or another) talks HTTP to it exactly as to api.telegram.org.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import serve

TOKEN = "123456789:AAE-test-token-for-wasl"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Wasl", "username": "wasl_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False}
ERRORS = {
    400: "Bad Request: {detail}",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
         "delete the webhook first",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def error_body(code: int, retry_after: int | None = None, detail: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code,
                            "description": ERRORS[code].format(retry_after=retry_after,
                                                               detail=detail)}
    if code == 429:
        body["parameters"] = {"retry_after": retry_after}
    return body


@dataclass
class Fault:
    code: int
    retry_after: int | None = None
    chat_id: str | None = None  # only for this chat
    delay: float = 0.0  # a slow answer


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 200  # what the fake answered (a fault's code)


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.cond = threading.Condition()
        self.calls: list[Call] = []
        self.queue: list[dict[str, Any]] = []  # updates not yet confirmed by an offset
        self.confirmed = 0  # every update below this id was confirmed
        self.faults: dict[str, list[Fault]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str | None, list[dict[str, str]]] = {}  # the default menu, by language
        # Every command menu set and not deleted, by scope and language: (scope, language), the
        # scope as "default", "chat:<id>" and so on (see `_scope_key` and `menu`).
        self.menus: dict[tuple[str, str | None], list[dict[str, str]]] = {}
        self._update_ids = itertools.count(500_000_001)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self.port = 0

    # -- running ---------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTelegram:
        app = Starlette(routes=[
            Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
        ])
        self._server, self.port = serve(app, "fake Telegram")
        return self

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True

    # -- the test's side -------------------------------------------------------
    def fail(self, method: str, code: int, *, retry_after: int | None = None, times: int = 1,
             chat_id: str | None = None) -> None:
        with self.cond:
            self.faults.setdefault(method, []).extend(
                Fault(code, retry_after, chat_id) for _ in range(times))

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        with self.cond:
            self.faults.setdefault(method, []).extend(Fault(200, delay=seconds) for _ in range(times))

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; its update_id."""
        with self.cond:
            self.queue.append(update)
            self.cond.notify_all()
        return int(update["update_id"])

    def add_file(self, content: bytes, suffix: str = "jpg") -> str:
        file_id = f"AgACAgQAAxkBAAI{next(self._file_ids):04d}"
        with self.cond:
            self.files[file_id] = (content, f"documents/file_{len(self.files)}.{suffix}")
        return file_id

    def called(self, method: str) -> list[Call]:
        with self.cond:
            return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: str | int) -> list[dict[str, Any]]:
        """Messages delivered to a chat (calls answered with an error are not deliveries)."""
        return [c.params for c in self.called("sendMessage")
                if str(c.params["chat_id"]) == str(chat_id) and c.status == 200]

    def wait(self, predicate, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("fake Telegram: condition not met in time")
                self.cond.wait(left)

    def handled(self, update_id: int, timeout: float = 15.0) -> None:
        """Wait until the bot confirmed an update (a getUpdates offset past it)."""
        self.wait(lambda: self.confirmed > update_id, timeout)

    def menu(self, chat_id: str | int | None = None, lang: str | None = None) -> list[str] | None:
        """The command names of a menu as set (None: never set, or deleted): in one chat's
        scope (BotCommandScopeChat), or the default scope without a chat."""
        with self.cond:
            found = self.menus.get((_scope_key({"type": "chat", "chat_id": chat_id}
                                               if chat_id is not None else None), lang))
        return None if found is None else [c["command"] for c in found]

    def message(self, chat_id: str | int, message_id: int | str) -> dict[str, Any]:
        return self.messages[(str(chat_id), int(message_id))]

    # -- updates built like Telegram's -------------------------------------------
    def user(self, uid: int, first_name: str = "فاطمة", lang: str = "ar") -> dict[str, Any]:
        return {"id": uid, "is_bot": False, "first_name": first_name, "language_code": lang}

    def _message(self, uid: int, **content: Any) -> dict[str, Any]:
        chat = {"id": uid, "first_name": "فاطمة", "type": "private"}
        return {"update_id": next(self._update_ids), "message": {
            "message_id": next(self._message_ids), "from": self.user(uid), "chat": chat,
            "date": int(time.time()), **content}}

    def text_update(self, uid: int, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"offset": 0, "length": len(text.split()[0]),
                                    "type": "bot_command"}]
        return self._message(uid, **content)

    def contact_update(self, uid: int, phone: str, owner: int | None = None) -> dict[str, Any]:
        contact = {"phone_number": phone, "first_name": "فاطمة", "user_id": owner or uid}
        return self._message(uid, contact=contact)

    def photo_update(self, uid: int, content: bytes, caption: str = "") -> dict[str, Any]:
        file_id = self.add_file(content)
        sizes = [{"file_id": file_id + "-s", "file_unique_id": "AQADs", "file_size": 1200,
                  "width": 90, "height": 67},
                 {"file_id": file_id, "file_unique_id": "AQADm", "file_size": len(content),
                  "width": 1280, "height": 960}]
        return self._message(uid, photo=sizes, **({"caption": caption} if caption else {}))

    def voice_update(self, uid: int, content: bytes, duration: int = 7) -> dict[str, Any]:
        """A voice note (Bot API Voice: file_id, file_unique_id, duration, mime_type,
        file_size)."""
        file_id = self.add_file(content, "oga")
        return self._message(uid, voice={"file_id": file_id, "file_unique_id": "AwADvoice",
                                         "duration": duration, "mime_type": "audio/ogg",
                                         "file_size": len(content)})

    def document_update(self, uid: int, content: bytes, name: str, mime: str,
                        size: int | None = None) -> dict[str, Any]:
        file_id = self.add_file(content, name.rsplit(".", 1)[-1])
        return self._message(uid, document={
            "file_name": name, "mime_type": mime, "file_id": file_id,
            "file_unique_id": "AgADdoc", "file_size": size if size is not None else len(content)})

    def group_text_update(self, uid: int, chat_id: int, text: str, thread_id: int | None = None,
                          reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A message in a supergroup (a forum topic when `thread_id` is given)."""
        chat = {"id": chat_id, "title": "فريق البحث الاجتماعي", "type": "supergroup",
                "is_forum": thread_id is not None}
        message: dict[str, Any] = {"message_id": next(self._message_ids), "from": self.user(uid),
                                   "chat": chat, "date": int(time.time()), "text": text}
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return {"update_id": next(self._update_ids), "message": message}

    def press_update(self, uid: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), "callback_query": {
            "id": str(4382000000000000000 + next(self._message_ids)), "from": self.user(uid),
            "message": message, "chat_instance": "-8412113512545465", "data": data}}

    # -- the Bot API -------------------------------------------------------------
    async def _api(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse(error_body(401), status_code=401)
        method = request.path_params["method"]
        params = await _params(request)
        with self.cond:
            call = Call(method, params)
            self.calls.append(call)
            fault = self._take_fault(method, params)
            if fault and not fault.delay:
                call.status = fault.code
            self.cond.notify_all()
        if fault and fault.delay:
            await asyncio.sleep(fault.delay)
        elif fault:
            return JSONResponse(error_body(fault.code, fault.retry_after), status_code=fault.code)
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return JSONResponse(error_body(404), status_code=404)
        result = await handler(params)
        if isinstance(result, Response):
            return result
        return JSONResponse({"ok": True, "result": result})

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        pending = self.faults.get(method, [])
        scope = params.get("scope")
        chat = params.get("chat_id", scope.get("chat_id") if isinstance(scope, dict) else None)
        for i, fault in enumerate(pending):
            if fault.chat_id is None or fault.chat_id == str(chat):
                return pending.pop(i)
        return None

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse(error_body(401), status_code=401)
        path = request.path_params["path"]
        for content, file_path in self.files.values():
            if file_path == path:
                return Response(content, media_type="application/octet-stream")
        return JSONResponse(error_body(404), status_code=404)

    async def _m_getMe(self, p: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        if self.webhook:
            return JSONResponse(error_body(409), status_code=409)
        offset = int(p.get("offset") or 0)
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        while True:
            with self.cond:
                if offset:
                    self.confirmed = max(self.confirmed, offset)
                    self.queue = [u for u in self.queue if u["update_id"] >= offset]
                    self.cond.notify_all()
                ready = list(self.queue[: int(p.get("limit") or 100)])
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

    async def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = {"url": p["url"], "secret_token": p.get("secret_token")}
        return True

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_setMyCommands(self, p: dict[str, Any]) -> Any:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            return JSONResponse(error_body(400, detail="BOT_COMMANDS_TOO_MUCH"), status_code=400)
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command"))):
                return JSONResponse(error_body(400, detail="BOT_COMMAND_INVALID"), status_code=400)
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                return JSONResponse(error_body(400, detail="command description is empty or "
                                               "too long"), status_code=400)
        names = [c["command"] for c in commands]
        if len(set(names)) != len(names):
            return JSONResponse(error_body(400, detail="BOT_COMMAND_DUPLICATE"), status_code=400)
        key = self._menu_key(p)
        if isinstance(key, Response):
            return key
        with self.cond:
            self.menus[key] = commands
            if key[0] == "default":
                self.commands[key[1]] = commands
        return True

    async def _m_deleteMyCommands(self, p: dict[str, Any]) -> Any:
        key = self._menu_key(p)
        if isinstance(key, Response):
            return key
        with self.cond:
            self.menus.pop(key, None)
            if key[0] == "default":
                self.commands.pop(key[1], None)
        return True

    @staticmethod
    def _menu_key(p: dict[str, Any]) -> tuple[str, str | None] | Response:
        """A menu's scope and language, checked as Telegram checks them."""
        lang = p.get("language_code") or None
        if lang is not None and not re.fullmatch(r"[a-z]{2}", str(lang)):
            return JSONResponse(error_body(400, detail="LANG_CODE_INVALID"), status_code=400)
        scope = p.get("scope")
        if scope is not None and (not isinstance(scope, dict) or scope.get("type") not in SCOPES
                                  or (scope["type"] in ("chat", "chat_administrators", "chat_member")
                                      and not str(scope.get("chat_id", "")).lstrip("-").isdigit())):
            return JSONResponse(error_body(400, detail="BOT_COMMAND_SCOPE_INVALID"), status_code=400)
        return _scope_key(scope), lang

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        text = str(p.get("text", ""))
        if not 1 <= len(text) <= 4096:
            return JSONResponse(error_body(400, detail="message is too long" if text
                                           else "message text is empty"), status_code=400)
        markup = p.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if not 1 <= len(button.get("callback_data", "x").encode()) <= 64:
                    return JSONResponse(error_body(400, detail="BUTTON_DATA_INVALID"),
                                        status_code=400)
        return self._new_message(p["chat_id"], p.get("message_thread_id"), text=text,
                                 **({"reply_markup": markup} if markup and "inline_keyboard" in markup
                                    else {}))

    def _new_message(self, chat_id: Any, thread_id: Any = None, **content: Any) -> dict[str, Any]:
        chat_type = "supergroup" if str(chat_id).startswith("-") else "private"
        message = {"message_id": next(self._message_ids), "from": BOT_USER,
                   "chat": {"id": int(chat_id), "type": chat_type}, "date": int(time.time()),
                   **content}
        if thread_id:
            message.update(message_thread_id=int(thread_id), is_topic_message=True)
        with self.cond:
            self.messages[(str(chat_id), message["message_id"])] = message
        return message

    async def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        key = (str(p.get("chat_id")), int(p.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            return JSONResponse(error_body(400, detail="message to edit not found"), status_code=400)
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def _m_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        return True

    async def _m_getFile(self, p: dict[str, Any]) -> Any:
        found = self.files.get(str(p.get("file_id")))
        if found is None:
            return JSONResponse(error_body(400, detail="invalid file_id"), status_code=400)
        return {"file_id": p["file_id"], "file_unique_id": "AQAD" + p["file_id"][-4:],
                "file_size": len(found[0]), "file_path": found[1]}

    async def _m_sendDocument(self, p: dict[str, Any]) -> Any:
        return self._new_message(p["chat_id"], p.get("message_thread_id"), document={
            "file_name": "document", "file_id": "BQACAgQAAxkDAAI", "file_unique_id": "AgAD"})

    async def _m_sendPhoto(self, p: dict[str, Any]) -> Any:
        return self._new_message(p["chat_id"], p.get("message_thread_id"), photo=[
            {"file_id": "AgACAgQAAxkDAAI", "file_unique_id": "AQAD", "width": 90, "height": 90}])

    async def _m_createForumTopic(self, p: dict[str, Any]) -> Any:
        return {"message_thread_id": next(self._message_ids), "name": p["name"],
                "icon_color": 7322096}

    async def _m_copyMessage(self, p: dict[str, Any]) -> Any:
        return {"message_id": next(self._message_ids)}


SCOPES = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
          "chat_administrators", "chat_member")


def _scope_key(scope: dict[str, Any] | None) -> str:
    """How `menus` names a scope: "default", "chat:<id>", "all_private_chats" and so on."""
    if not scope or scope.get("type") == "default":
        return "default"
    return ":".join([str(scope.get("type")), *(str(int(scope[k])) for k in ("chat_id", "user_id")
                                               if k in scope)])


async def _params(request: Request) -> dict[str, Any]:
    """Bot API parameters from a query string, JSON, a form or multipart (as clients send)."""
    params: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "")
    if "application/json" in kind:
        body = await request.body()
        params.update(json.loads(body) if body else {})
    elif "form" in kind:
        form = await request.form()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
            else:  # an upload: kept, so that a test can open the file the bot sent
                params[key] = "<file>"
                params[f"{key}:file"] = (value.filename, await value.read())
    for key, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params
