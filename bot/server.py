"""`wasl serve`: one ASGI app for the platforms' webhooks (Telegram at /webhooks/telegram)
and the web chat (/chat)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import build_app
from bot.channels.errors import TemporaryFailure
from bot.channels.telegram.client import make_client
from bot.channels.telegram.service import TelegramService
from bot.channels.web import WebChat
from bot.channels.web.routes import routes as web_routes
from bot.config import Settings

log = logging.getLogger(__name__)
TELEGRAM_PATH = "/webhooks/telegram"
MAX_BODY = 1024 * 1024  # an update is a few kB; anything larger is not from Telegram


def webhook_url(base: str) -> str:
    """The public URL Telegram should call: WASL_TELEGRAM_WEBHOOK_URL, with our path."""
    base = base.rstrip("/")
    return base if base.endswith(TELEGRAM_PATH) else base + TELEGRAM_PATH


def create_server(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(server: Starlette) -> AsyncIterator[None]:
        app = await build_app(settings)
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
        server.state.web = WebChat(app, settings) if settings.web_chat else None
        if server.state.web:
            tasks.append(asyncio.create_task(server.state.web.sender.run()))
            tasks.append(asyncio.create_task(server.state.web.housekeeping()))
        senders = [s.sender for s in (server.state.telegram, server.state.web) if s]

        def wake() -> None:  # a due survey reminder may be for any channel
            for sender in senders:
                sender.wake()

        for channel in (server.state.telegram, server.state.web):
            if channel:  # a message on one channel often has replies on another (the desk)
                channel.wake = wake
        tasks.append(asyncio.create_task(app.scheduler.run(wake)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if server.state.telegram:
                await server.state.telegram.client.close()
            await app.close()

    return Starlette(routes=[
        Route(TELEGRAM_PATH, telegram_webhook, methods=["POST"]),
        Route("/healthz", health),
        *web_routes(),
    ], lifespan=lifespan)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def telegram_webhook(request: Request) -> JSONResponse:
    """Telegram's webhook: the secret header first, then the update, processed once."""
    service: TelegramService | None = request.app.state.telegram
    secret: str | None = request.app.state.secret
    if service is None:
        return JSONResponse({"ok": False}, status_code=404)
    given = request.headers.get("x-telegram-bot-api-secret-token", "")
    if secret is None or not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("refused a Telegram webhook call with a wrong or missing secret from %s",
                    request.client.host if request.client else "?")
        return JSONResponse({"ok": False}, status_code=403)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"ok": False}, status_code=413)
    try:
        update = service.client.parse(json.loads(body))
    except (ValueError, TypeError) as exc:
        log.warning("refused a malformed Telegram update: %s", type(exc).__name__)
        return JSONResponse({"ok": False}, status_code=400)
    try:
        await service.handle(update)
    except TemporaryFailure:  # Telegram retries non-2xx answers; the dedupe makes that safe
        return JSONResponse({"ok": False}, status_code=503)
    return JSONResponse({"ok": True})
