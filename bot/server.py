"""`wasl serve`: one ASGI app for the platforms' webhooks (Telegram at /webhooks/telegram,
WhatsApp at /webhooks/whatsapp) and the web chat (/chat)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.app import build_app
from bot.channels.errors import TemporaryFailure
from bot.channels.telegram.client import make_client
from bot.channels.telegram.service import TelegramService
from bot.channels.web import WebChat
from bot.channels.web.routes import declared_length, read_body
from bot.channels.web.routes import routes as web_routes
from bot.channels.whatsapp.client import WhatsAppClient
from bot.channels.whatsapp.service import WhatsAppService, retrying_handle
from bot.config import Settings
from storage.db import Unavailable

log = logging.getLogger(__name__)
TELEGRAM_PATH = "/webhooks/telegram"
WHATSAPP_PATH = "/webhooks/whatsapp"
MAX_BODY = 1024 * 1024  # an update is a few kB; anything larger is not from Telegram
WHATSAPP_MAX_BODY = 3 * 1024 * 1024  # Meta's largest webhook payload (a batch) is 3 MB


def webhook_url(base: str) -> str:
    """The public URL Telegram should call: WASL_TELEGRAM_WEBHOOK_URL, with our path."""
    base = base.rstrip("/")
    return base if base.endswith(TELEGRAM_PATH) else base + TELEGRAM_PATH


def create_server(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(server: Starlette) -> AsyncIterator[None]:
        app = await build_app(settings)
        server.state.settings = settings
        server.state.telegram, server.state.secret, tasks = None, None, []
        if settings.telegram_token:
            client = make_client(settings.telegram_runtime,
                                 settings.telegram_token.get_secret_value(),
                                 settings.telegram_api_base)
            service = TelegramService(app, client, settings)
            await service.start()
            secret = (settings.telegram_webhook_secret.get_secret_value()
                      if settings.telegram_webhook_secret else None)
            if settings.telegram_webhook_url:
                secret = secret or secrets.token_urlsafe(32)
                await client.set_webhook(webhook_url(settings.telegram_webhook_url), secret)
            if secret is None:
                log.error("no WASL_TELEGRAM_WEBHOOK_SECRET: every webhook call will be refused")
            server.state.telegram, server.state.secret = service, secret
            tasks.append(asyncio.create_task(service.sender.run()))
            tasks.append(asyncio.create_task(service.follow_team()))
        server.state.whatsapp = None
        if settings.whatsapp_phone_number_id and settings.whatsapp_access_token:
            wa_client = WhatsAppClient(settings.whatsapp_api_base, settings.whatsapp_api_version,
                                       settings.whatsapp_phone_number_id,
                                       settings.whatsapp_access_token.get_secret_value())
            server.state.whatsapp = WhatsAppService(app, wa_client, settings)
            tasks.append(asyncio.create_task(server.state.whatsapp.sender.run()))
            if settings.whatsapp_app_secret is None:
                log.error("no WASL_WHATSAPP_APP_SECRET: every WhatsApp webhook call will be refused")
        server.state.web = WebChat(app, settings) if settings.web_chat else None
        if server.state.web:
            tasks.append(asyncio.create_task(server.state.web.sender.run()))
            tasks.append(asyncio.create_task(server.state.web.housekeeping()))
        channels = [c for c in (server.state.telegram, server.state.web, server.state.whatsapp) if c]
        senders = [c.sender for c in channels]

        def wake() -> None:  # a due survey reminder may be for any channel
            for sender in senders:
                sender.wake()

        for channel in channels:  # a message on one channel often has replies on another
            channel.wake = wake
        tasks.append(asyncio.create_task(app.scheduler.run(wake)))
        tasks.append(asyncio.create_task(app.digest.run(wake)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if server.state.telegram:
                await server.state.telegram.client.close()
            if server.state.whatsapp:
                await server.state.whatsapp.client.close()
            await app.close()

    return Starlette(routes=[
        Route(TELEGRAM_PATH, telegram_webhook, methods=["POST"]),
        Route(WHATSAPP_PATH, whatsapp_verify, methods=["GET"]),
        Route(WHATSAPP_PATH, whatsapp_webhook, methods=["POST"]),
        Route("/healthz", health),
        *web_routes(),
    ], lifespan=lifespan)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def telegram_webhook(request: Request) -> JSONResponse:
    """Telegram's webhook: the secret header first, then the update, processed once.
    A body larger than an update is refused unread (413); one that is not a JSON object
    is refused (400); an object the runtime cannot read is skipped with 200, since
    Telegram would only send it again. Nothing a caller sends gets a 500."""
    service: TelegramService | None = request.app.state.telegram
    secret: str | None = request.app.state.secret
    if service is None:
        return JSONResponse({"ok": False}, status_code=404)
    given = request.headers.get("x-telegram-bot-api-secret-token", "")
    if secret is None or not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("refused a Telegram webhook call with a wrong or missing secret from %s",
                    _peer(request))
        return JSONResponse({"ok": False}, status_code=403)
    body = await read_body(request, MAX_BODY)
    if body is None:
        log.warning("refused a Telegram webhook call larger than %d bytes", MAX_BODY)
        return JSONResponse({"ok": False}, status_code=413)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        log.warning("refused a malformed Telegram update: %s", type(exc).__name__)
        return JSONResponse({"ok": False}, status_code=400)
    if not isinstance(data, dict):
        log.warning("refused a malformed Telegram update: a JSON %s, not an object",
                    type(data).__name__)
        return JSONResponse({"ok": False}, status_code=400)
    try:
        update = service.client.parse(data)
    except Exception as exc:  # the runtime's own types refuse it; its message may hold data
        log.warning("ignored a malformed Telegram update (%s)", type(exc).__name__)
        return JSONResponse({"ok": True})
    try:
        await service.handle(update)
    except TemporaryFailure:  # Telegram retries non-2xx answers; the dedupe makes that safe
        return JSONResponse({"ok": False}, status_code=503)
    except Unavailable:
        log.warning("the database is busy; Telegram will deliver the update again")
        return JSONResponse({"ok": False}, status_code=503)
    return JSONResponse({"ok": True})


def _peer(request: Request) -> str:
    return request.client.host if request.client else "?"


async def whatsapp_verify(request: Request) -> Response:
    """Meta's subscription check: hub.mode=subscribe and our verify token -> the challenge."""
    token = request.app.state.settings.whatsapp_verify_token
    given = request.query_params.get("hub.verify_token", "")
    if (request.query_params.get("hub.mode") == "subscribe" and token is not None
            and hmac.compare_digest(given.encode(), token.get_secret_value().encode())):
        return PlainTextResponse(request.query_params.get("hub.challenge", ""))
    log.warning("refused a WhatsApp webhook verification from %s", _peer(request))
    return PlainTextResponse("forbidden", status_code=403)


async def whatsapp_webhook(request: Request) -> JSONResponse:
    """WhatsApp's webhook: the size and the signature over the raw body first (constant
    time), then the payload, each message processed once. A body larger than a webhook is
    refused (413) before it is read, or as soon as it passes the limit; a call without a
    signature is refused unread. A signed payload of any shape is answered 200 (Meta sends
    again anything else for days): what can be read is handled, the rest skipped and logged."""
    service: WhatsAppService | None = request.app.state.whatsapp
    if service is None:
        return JSONResponse({"ok": False}, status_code=404)
    if declared_length(request) > WHATSAPP_MAX_BODY:
        log.warning("refused a WhatsApp webhook call larger than %d bytes from %s",
                    WHATSAPP_MAX_BODY, _peer(request))
        return JSONResponse({"ok": False}, status_code=413)
    secret = request.app.state.settings.whatsapp_app_secret
    given = request.headers.get("x-hub-signature-256", "")
    if secret is None or not given.startswith("sha256="):
        log.warning("refused a WhatsApp webhook call without a signature from %s", _peer(request))
        return JSONResponse({"ok": False}, status_code=401)
    body = await read_body(request, WHATSAPP_MAX_BODY) if len(given) == 71 else b""
    if body is None:
        log.warning("refused a WhatsApp webhook call larger than %d bytes from %s",
                    WHATSAPP_MAX_BODY, _peer(request))
        return JSONResponse({"ok": False}, status_code=413)
    expected = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    if len(given) != 71 or not hmac.compare_digest(given[7:].encode(), expected.encode()):
        log.warning("refused a WhatsApp webhook call with a wrong signature from %s",
                    _peer(request))
        return JSONResponse({"ok": False}, status_code=403)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        log.warning("skipped a malformed WhatsApp payload: %s", type(exc).__name__)
        return JSONResponse({"ok": True})
    if not isinstance(payload, dict):
        log.warning("skipped a malformed WhatsApp payload: a JSON %s, not an object",
                    type(payload).__name__)
        return JSONResponse({"ok": True})
    try:
        handled = await retrying_handle(service, payload)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a shape we do not know
        log.warning("skipped a WhatsApp payload we cannot read (%s)", type(exc).__name__)
        return JSONResponse({"ok": True})
    return JSONResponse({"ok": handled}, status_code=200 if handled else 503)
