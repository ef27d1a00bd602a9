"""The web chat's HTTP side: the page, its event stream, and what the visitor sends.

Every request that changes something must come from the chat page itself (its
Origin is this server) and carry the browser's cookie; anything else is refused
with 403 and logged. Text from visitors is only ever sent back as JSON and shown
with textContent; the page allows no inline script (Content-Security-Policy).
Only the sites in WASL_WEB_ALLOWED_ORIGINS may show it in a frame; embed.js asks
/chat/api/embedding first, so that a site not listed shows why instead of a
frame the browser leaves grey.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.channels import sniff
from bot.channels.web import CHANNEL, TOKEN, WebChat, chat_id_of, new_token
from conversations import render
from conversations.base import Context, Event, FileRef
from conversations.fields import N_
from conversations.journey import ASKS_FOR_HUMAN
from conversations.render import COMMANDS
from conversations.state import Step
from storage.db import Unavailable

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "wasl_chat"
MAX_JSON = 16 * 1024  # a message is a few hundred bytes
MAX_TEXT = 4000  # characters in one message
STREAM_SECONDS = 55.0  # an event stream ends after this; the page reconnects at once
POLL_SECONDS = 3.0  # look in the database for messages another process stored
KEEPALIVE_SECONDS = 15.0
STREAMS_PER_CHAT = 5
FILE_TYPES = ("image/jpeg,image/png,image/webp,image/heic,application/pdf,"
              "audio/ogg,audio/mpeg,audio/mp4,audio/aac")  # (a recording: a voice note)

# The page's own words (the conversation's words come from the flows).
PAGE_STRINGS = {
    "placeholder": N_("Write your message…"),
    "send": N_("Send"),
    "attach": N_("Attach a photo or document"),
    "compose": N_("Your message"),
    "larger": N_("Larger text"),
    "menu": N_("Menu"),
    "close": N_("Close"),
    "connecting": N_("Connecting…"),
    "offline": N_("The connection was lost. Trying again…"),
    "failed": N_("Your message was not sent. Please try again."),
    "too_big": N_("This file is too large: the limit is {max} MB."),
    "file": N_("File"),
    "log": N_("Conversation"),
    "noscript": N_("This chat needs JavaScript. You can also reach us by phone or WhatsApp."),
    "researcher": N_("🙋 Talk to a social researcher"),  # in ☰, as on the main menu
    "uploading": N_("Sending the file…"),
    "hours_label": N_("Working hours"),
    "after_hours": N_("It is outside working hours now: you can still write, and a "
                      "researcher will reply during working hours."),
}
# The snippet's words, on the association's own site.
EMBED_STRINGS = {
    "label": N_("Chat with us"),
    "close": N_("Close"),
    "unread": N_("New messages: {count}"),
    "blocked": N_("The chat cannot open on this page yet."),
    "blocked_admin": N_("For the site's administrator: add {origin} to "
                        "WASL_WEB_ALLOWED_ORIGINS on the chat server."),
}


TOO_LONG = N_("This message is too long.")
NEW_CHATS = N_("Too many new conversations have been started from your connection. "
               "Please try again in an hour.")


def routes() -> list[BaseRoute]:
    return [
        Route("/chat", to_page),
        Route("/chat/", page),
        Route("/chat/embed.js", embed),
        Route("/chat/api/embedding", embedding),
        Route("/chat/api/events", events),
        Route("/chat/api/message", message, methods=["POST"]),
        Route("/chat/api/file", upload, methods=["POST"]),
        Route("/chat/api/document/{document_id:int}", document),
        Mount("/chat/static", StaticFiles(directory=STATIC), name="chat-static"),
    ]


def _web(request: Request) -> WebChat | None:
    return getattr(request.app.state, "web", None)


def _token(request: Request) -> str | None:
    token = request.cookies.get(COOKIE, "")
    return token if TOKEN.fullmatch(token) else None


def _chat(request: Request) -> str | None:
    """The chat id of the browser's cookie, if it has a well-formed one."""
    token = _token(request)
    return chat_id_of(token) if token else None


def _hint(request: Request) -> str:
    """The visitor's language from Accept-Language: Arabic unless English comes first."""
    best, best_q = "ar", -1.0
    for part in request.headers.get("accept-language", "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower()[:2]
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        if primary in ("ar", "en") and q > best_q:
            best, best_q = primary, q
    return best


async def _language(web: WebChat, request: Request, chat_id: str | None) -> str:
    known = await web.language(chat_id) if chat_id else None
    return known if known in ("ar", "en") else _hint(request)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(response: Response, request: Request, token: str, days: int) -> None:
    """HttpOnly always. Over HTTPS, SameSite=None and Partitioned, so the chat also works
    inside an association's site (a third-party frame); over plain HTTP (a local trial)
    SameSite=Lax."""
    secure = _secure(request)
    response.set_cookie(COOKIE, token, max_age=days * 86400, path="/chat", httponly=True,
                        secure=secure, samesite="none" if secure else "lax")
    if secure:  # added by hand: Python's http.cookies knows "Partitioned" only from 3.14
        name, value = response.raw_headers[-1]
        assert name == b"set-cookie"
        response.raw_headers[-1] = (name, value + b"; Partitioned")


def _csp(web: WebChat) -> str:
    ancestors = " ".join(["'self'", *web.settings.web_allowed_origins])
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
            "connect-src 'self'; form-action 'none'; base-uri 'none'; "
            f"frame-ancestors {ancestors}")


_TAG_SALT = secrets.token_bytes(16)  # new each start: a tag links log lines of one run only


def address_tag(address: str) -> str:
    """A visitor's address as the logs show it: a tag, the same for one address while the
    server runs, never the address itself (it is the beneficiary's personal data)."""
    return "addr:" + hashlib.sha256(_TAG_SALT + address.encode()).hexdigest()[:10]


def _forged(request: Request) -> str | None:
    """Why a request that changes something is refused, or None. The page's own requests
    carry an Origin with this server's host (every browser sends it on a POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        return "no Origin header"
    if urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        return f"Origin {origin[:100]!r} is not this server"
    if _token(request) is None:
        return "no chat cookie"
    return None


def _refuse(request: Request, why: str) -> JSONResponse:
    log.warning("refused a web chat request to %s from %s: %s", request.url.path,
                address_tag(request.client.host if request.client else "?"), why)
    return JSONResponse({"ok": False}, status_code=403)  # the page says "not sent", localised


async def _error(web: WebChat, request: Request, chat_id: str | None, text: str,
                 status: int, **values: object) -> JSONResponse:
    lang = await _language(web, request, chat_id)
    words = web.app.translations[lang].gettext(text)
    return JSONResponse({"error": words.format(**values) if values else words},
                        status_code=status)


async def to_page(request: Request) -> Response:
    """/chat is /chat/, whose relative links (static/, api/) stay under /chat/."""
    query = request.url.query
    return RedirectResponse("/chat/" + (f"?{query}" if query else ""), status_code=308)


async def page(request: Request) -> Response:
    web = _web(request)
    if web is None:
        return Response(status_code=404)
    token = _token(request)
    fresh = token is None
    token = token or new_token()
    lang = await _language(web, request, None if fresh else chat_id_of(token))
    body = render_page(web, lang, embedded=request.query_params.get("embed") == "1")
    response = Response(body, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": _csp(web), "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
    _set_cookie(response, request, token, web.settings.web_cookie_days)  # renewed on each visit
    return response


def _json_for_html(data: Any) -> str:
    """JSON safe inside <script type="application/json">: no '<' can end the element."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


def page_config(web: WebChat, lang: str) -> dict[str, Any]:
    """What the page's script needs, in both languages (it may switch); the same for
    every page but its starting language, so it is built once."""
    if web.page_settings is None:
        web.page_settings = _settings(web)
    return {**web.page_settings, "lang": lang}


def _settings(web: WebChat) -> dict[str, Any]:
    profile = web.app.profile
    hours = profile.working_hours
    config: dict[str, Any] = {"maxBytes": web.max_bytes,
                              "maxMb": profile.max_file_mb, "accept": FILE_TYPES,
                              "strings": {}, "name": {}, "commands": {},
                              # (the page says whether researchers are at work now)
                              "hours": {"days": list(hours.days),
                                        "start": hours.start.strftime("%H:%M"),
                                        "end": hours.end.strftime("%H:%M")}}
    for code in ("ar", "en"):
        _ = web.app.translations[code].gettext
        config["strings"][code] = {key: _(text) for key, text in PAGE_STRINGS.items()}
        config["strings"][code]["hours"] = working_hours(web, code)
        config["name"][code] = profile.association.get(code)
        config["commands"][code] = [[name, _(text)] for name, text in COMMANDS]
    return config


def working_hours(web: WebChat, lang: str) -> str:
    """When researchers answer, the line the bot says under "Contact us and working
    hours", so that the page and the bot never differ."""
    ctx = Context(web.app.profile, web.app.outbox.clock(), CHANNEL, web.app.translations)
    return render.working_hours_line(lang, ctx)


def render_page(web: WebChat, lang: str, embedded: bool = False) -> str:
    config = page_config(web, lang)
    words = config["strings"][lang]
    name = html.escape(config["name"][lang])
    direction = "rtl" if lang == "ar" else "ltr"
    close = (f'\n  <button type="button" id="wasl-close" title="{html.escape(words["close"])}"'
             f' aria-label="{html.escape(words["close"])}">×</button>' if embedded else "")
    return f"""<!doctype html>
<html lang="{lang}" dir="{direction}" data-connected="0"{' data-embedded="1"' if embedded else ''}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<title>{name}</title>
<link rel="icon" href="static/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="static/chat.css">
<script type="application/json" id="wasl-config">{_json_for_html(config)}</script>
<script src="static/chat.js" defer></script>
</head>
<body>
<header class="wasl-header">
  <h1 id="wasl-title">{name}</h1>
  <button type="button" id="wasl-larger" aria-pressed="false"
    title="{html.escape(words["larger"])}" aria-label="{html.escape(words["larger"])}">A+</button>
  <button type="button" id="wasl-menu" aria-expanded="false" aria-controls="wasl-commands"
    >☰ <span>{html.escape(words["menu"])}</span></button>{close}
</header>
<nav id="wasl-commands" hidden></nav>
<main id="wasl-log" aria-live="polite" aria-label="{html.escape(words["log"])}"></main>
<aside id="wasl-hours" aria-label="{html.escape(words["hours_label"])}"><span id="wasl-hours-text"
  >{html.escape(words["hours"])}</span> <strong id="wasl-after-hours"
  hidden>{html.escape(words["after_hours"])}</strong></aside>
<div id="wasl-notice" role="status" hidden></div>
<div id="wasl-upload" hidden><span id="wasl-upload-name"></span>
  <div id="wasl-progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
    aria-valuenow="0" aria-label="{html.escape(words["uploading"])}"><div></div></div>
  <span id="wasl-percent"></span></div>
<noscript><p class="wasl-noscript">{html.escape(words["noscript"])}</p></noscript>
<form id="wasl-form" autocomplete="off" aria-label="{html.escape(words["compose"])}">
  <button type="button" id="wasl-attach" title="{html.escape(words["attach"])}"
    aria-label="{html.escape(words["attach"])}">📎</button>
  <input id="wasl-file" type="file" accept="{FILE_TYPES}" hidden>
  <textarea id="wasl-input" rows="1" maxlength="{MAX_TEXT}" dir="auto"
    placeholder="{html.escape(words["placeholder"])}"></textarea>
  <button id="wasl-send" type="submit">{html.escape(words["send"])}</button>
</form>
</body>
</html>
"""


async def embed(request: Request) -> Response:
    """The snippet's script: `<script src="https://HOST/chat/embed.js" async></script>`
    on the association's site adds a chat button that opens the chat in a frame."""
    web = _web(request)
    if web is None:
        return Response(status_code=404)
    words = {code: {key: web.app.translations[code].gettext(text)
                    for key, text in EMBED_STRINGS.items()} for code in ("ar", "en")}
    names = {code: web.app.profile.association.get(code) for code in ("ar", "en")}
    script = (STATIC / "embed.js").read_text(encoding="utf-8")
    script = script.replace("/*CONFIG*/{}", json.dumps({"words": words, "names": names},
                                                      ensure_ascii=False))
    return Response(script, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600",
                             "X-Content-Type-Options": "nosniff"})


def may_embed(web: WebChat, request: Request) -> bool:
    """Whether the page that asks (its Origin) may show the chat in a frame: this server
    itself, or a site in WASL_WEB_ALLOWED_ORIGINS (the CSP's frame-ancestors)."""
    origin = request.headers.get("origin", "")
    if urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower():
        return True
    return origin.rstrip("/") in web.settings.web_allowed_origins


async def embedding(request: Request) -> Response:
    """For embed.js, before it opens a frame: whether this site may show the chat. Any
    site may ask (it learns only about itself); nothing is read or kept."""
    web = _web(request)
    if web is None:
        return Response(status_code=404)
    return JSONResponse({"allowed": may_embed(web, request)}, headers={
        "Access-Control-Allow-Origin": "*", "Vary": "Origin", "Cache-Control": "no-store"})


def _after(request: Request) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    return int(raw) if raw.isdigit() and len(raw) < 19 else 0


async def events(request: Request) -> Response:
    """Server-sent events: first `hello` (the language, and whether the chat is new), then
    each stored message after the last one the page has, as it comes."""
    web, chat_id = _web(request), _chat(request)
    if web is None:
        return Response(status_code=404)
    if chat_id is None:
        return _refuse(request, "event stream without a chat cookie")
    if web.hub.pages(chat_id) >= STREAMS_PER_CHAT:
        return JSONResponse({"ok": False}, status_code=429)
    after = _after(request)

    async def stream() -> AsyncIterator[str]:
        last = after
        with web.hub.listen(chat_id) as woken:
            hello = {"lang": await _language(web, request, chat_id), "empty": False}
            found = await web.messages(chat_id, last)
            hello["empty"] = not found and last == 0
            # the latest message stored now: what comes after it is new (unread, if unseen)
            hello["last"] = found[-1]["id"] if found else last
            yield f"retry: 1500\nevent: hello\ndata: {json.dumps(hello)}\n\n"
            started = quiet = time.monotonic()
            while True:
                for item in found:
                    last = item["id"]
                    data = json.dumps(item, ensure_ascii=False)
                    yield f"id: {last}\nevent: message\ndata: {data}\n\n"
                    quiet = time.monotonic()
                now = time.monotonic()
                if now - started > STREAM_SECONDS:
                    return
                if now - quiet > KEEPALIVE_SECONDS:
                    yield ": still here\n\n"
                    quiet = now
                woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), POLL_SECONDS)
                found = await web.messages(chat_id, last)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _visitor(request: Request) -> tuple[WebChat | None, str, Response | None]:
    """For a request that changes something: the channel and the chat, or the answer that
    refuses it (404 with the chat off, 403 when it is not from the page itself)."""
    web = _web(request)
    if web is None:
        return None, "", Response(status_code=404)
    if why := _forged(request):
        return web, "", _refuse(request, why)
    return web, _chat(request) or "", None


async def _admit(web: WebChat, request: Request, chat_id: str) -> JSONResponse | None:
    """The abuse limits: messages per minute from one browser and from one address, and
    new chats (browsers never seen before: a made-up cookie is one) per hour from one
    address. The address is the connection's, or what a trusted proxy says it is
    (WASL_TRUSTED_PROXIES); a visitor's own X-Forwarded-For is not believed."""
    address = request.client.host if request.client else "?"
    if not web.per_address.allow(address) or not web.per_browser.allow(chat_id):
        log.info("web chat: too many messages from %s", address_tag(address))
        return await _error(web, request, chat_id, N_(
            "You are sending messages too quickly. Please wait a minute, then try again."), 429)
    if await web.is_new(chat_id):
        if not web.new_chats.allow(address):
            log.info("web chat: too many new chats from %s", address_tag(address))
            return await _error(web, request, chat_id, NEW_CHATS, 429)
        web.remember(chat_id)
    return None


async def _busy(web: WebChat, request: Request, chat_id: str) -> JSONResponse:
    """The database could not take the message now: 503, and the page keeps the text (and
    sends it again), as for any message that was not sent."""
    log.warning("web chat: the database is busy; the message was not taken")
    try:
        lang = await _language(web, request, chat_id)
    except SQLAlchemyError:
        lang = _hint(request)
    words = web.app.translations[lang].gettext(PAGE_STRINGS["failed"])
    return JSONResponse({"error": words}, status_code=503, headers={"Retry-After": "2"})


async def message(request: Request) -> Response:
    """What the visitor typed or pressed: {"text"}, {"choice"}, {"command"} or {"start"}."""
    web, chat_id, refused = _visitor(request)
    if refused is not None:
        return refused
    assert web is not None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return _refuse(request, "a message that is not JSON")
    body = await read_body(request, MAX_JSON)
    if body is None:
        return await _error(web, request, chat_id, TOO_LONG, 413)
    if refused := await _admit(web, request, chat_id):
        return refused
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return await _error(web, request, chat_id, N_("This message could not be read."), 400)
    lang = await _language(web, request, chat_id)
    got = await _event(web, chat_id, data, lang)
    if isinstance(got, str):
        return await _error(web, request, chat_id, got, 400 if got != TOO_LONG else 413)
    event, mine = got
    try:
        await web.receive(chat_id, event, mine, _hint(request))
    except Unavailable:
        return await _busy(web, request, chat_id)
    return JSONResponse({"ok": True}, status_code=202)


async def _event(web: WebChat, chat_id: str, data: dict[str, Any],
                 lang: str) -> tuple[Event, dict[str, Any]] | str:
    """The event a message stands for and how it shows in the transcript, or the reason
    (a message id) it cannot be taken."""
    if data.get("start") is True:
        return Event("text", text="/start"), {"text": "/start", "hidden": True}
    if data.get("researcher") is True:  # ☰'s "Talk to a social researcher"
        return await _researcher(web, chat_id, lang)
    if isinstance(command := data.get("command"), str):
        words = dict(COMMANDS).get(command)
        if words is None:
            return N_("This message could not be read.")
        label = web.app.translations[lang].gettext(words)
        return Event("text", text=f"/{command}"), {"text": label}
    if isinstance(choice := data.get("choice"), str) and 0 < len(choice) <= 200:
        label = await web.label(chat_id, choice)
        if label is None:  # an old button: the flow says what it says to a stale press
            return Event("choice", choice=choice), {"text": "…"}
        return Event("choice", choice=choice), {"text": label}
    if isinstance(text := data.get("text"), str):
        text = text.strip()
        if not text:
            return N_("Please write a message first.")
        if len(text) > MAX_TEXT:
            return TOO_LONG
        if not _storable(text):
            return N_("This message could not be read.")
        return Event("text", text=text), {"text": text}
    return N_("This message could not be read.")


async def _researcher(web: WebChat, chat_id: str, lang: str) -> tuple[Event, dict[str, Any]]:
    """Asking for a researcher from ☰, at any point: the question's own "researcher" button
    when it has one (as if pressed); in a case already, the words go to it (the researcher
    reads that they asked); anywhere else, the words the bot takes as asking for a person
    (journey.asks_for_human)."""
    _ = web.app.translations[lang].gettext
    label = _(PAGE_STRINGS["researcher"])
    if await web.label(chat_id, "human") is not None:
        return Event("choice", choice="human"), {"text": label}
    if await web.step(chat_id) == Step.CASE:
        return Event("text", text=label), {"text": label}
    return Event("text", text=_(ASKS_FOR_HUMAN).split(",")[0].strip()), {"text": label}


def _storable(text: str) -> bool:
    """False for text that cannot be stored (lone surrogates, NUL)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _file_name(raw: str | None) -> str:
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name if _storable(name) and name else "file"


async def upload(request: Request) -> Response:
    """A photo or document, as the request body (`?name=`). Nothing larger than the
    association's limit is read or kept; its type is checked by the question it answers,
    as on every channel."""
    web, chat_id, refused = _visitor(request)
    if refused is not None:
        return refused
    assert web is not None
    # Refused on its Content-Length before anything is read, or cut off at the limit, and
    # not kept; the page checks this before it sends.
    if declared_length(request) > web.max_bytes:
        return await _error(web, request, chat_id, PAGE_STRINGS["too_big"], 413,
                            max=_plain(web.app.profile.max_file_mb))
    if refused := await _admit(web, request, chat_id):
        return refused
    name = _file_name(request.query_params.get("name"))
    declared = request.headers.get("content-type", "application/octet-stream").split(";")[0]
    content = await read_body(request, web.max_bytes)
    if content is None:
        return await _error(web, request, chat_id, PAGE_STRINGS["too_big"], 413,
                            max=_plain(web.app.profile.max_file_mb))
    if not content:
        return await _error(web, request, chat_id, N_("This message could not be read."), 400)
    file = FileRef(name, sniff(content, declared[:100]), len(content),
                   hashlib.sha256(content).hexdigest(), content)
    try:
        kind = "voice" if file.mime.startswith("audio/") else "file"  # a recording: to listen to
        await web.receive(chat_id, Event(kind, file=file), {"text": "", "file": {"name": name}},
                          _hint(request))
    except Unavailable:
        return await _busy(web, request, chat_id)
    return JSONResponse({"ok": True}, status_code=202)


def declared_length(request: Request) -> int:
    """The declared body size (0 when not given; more than any limit when absurd)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return 0
    return int(length) if len(length) < 16 else 10**16


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None when it is larger than `limit` bytes: refused on its
    Content-Length before anything is read, and cut off as soon as it passes the limit
    (a chunked body declares no length). Nothing larger is ever held in memory."""
    if declared_length(request) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _plain(number: float) -> str:
    return f"{number:g}"


async def document(request: Request) -> Response:
    """A file the bot sent to this chat (an announcement's photo, a copy of a document);
    never one it did not send here."""
    web, chat_id = _web(request), _chat(request)
    if web is None:
        return Response(status_code=404)
    if chat_id is None:
        return _refuse(request, "a document without a chat cookie")
    async with web.app.db.unit_of_work() as uow:
        doc = await uow.web_document(chat_id, request.path_params["document_id"])
    if doc is None:
        return Response(status_code=404)
    disposition = "inline" if doc.mime.startswith("image/") else "attachment"
    return Response(doc.content, media_type=doc.mime, headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(doc.name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        "Content-Security-Policy": "sandbox"})
