"""Typed settings, read once at start from WASL_* environment variables."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WASL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///data/wasl.db"
    profile: str = "bakkah"
    auto_migrate: bool = True  # the embedded default migrates itself; see docs/operations.md
    log_level: str = "WARNING"
    locales_dir: Path | None = None
    # answers before a human (conversations/knowledge.py): "model" adds the bundled
    # multilingual sentence model to the lexical search; "lexical" alone; "off" answers nothing
    faq: Literal["model", "lexical", "off"] = "model"
    scheduler_interval: float = 30.0  # seconds between two looks for due survey reminders
    # tell staff of new work (the profile's desk.notices); unset: as the profile says
    desk_notices: bool | None = None
    # Reverse proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto
    # are believed. None by default: the visitor's address is the connection's own.
    trusted_proxies: Annotated[list[str], NoDecode] = []

    # The outbox (every channel): see bot/outbox.py and docs/operations.md
    outbox_lease: float = 60.0  # seconds a sender holds the rows it took before another may
    outbox_max_attempts: int = 10  # failed sends of one message before it is reported failed
    outbox_backoff: float = 2.0  # seconds before the first retry, doubling (at most 5 min)

    # The web chat at /chat (bot/channels/web; docs/operations.md, "The web chat")
    web_chat: bool = True
    # sites that may embed the chat (its frame-ancestors), e.g. "https://assoc.org.sa"
    web_allowed_origins: Annotated[list[str], NoDecode] = []
    web_messages_per_minute: int = 20  # from one browser
    web_ip_messages_per_minute: int = 120  # from one address (a family behind one router)
    # New chats (browsers never seen before) from one address in an hour: more than an
    # office or a shared mobile address brings to one association; it stops made-up cookies
    # from starting fresh per-browser budgets (and conversations) without end
    web_new_chats_per_hour: int = 30
    web_cookie_days: int = 180  # how long a browser keeps its conversation

    # WhatsApp Cloud API (on when the phone number id and the access token are set)
    whatsapp_api_base: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None  # signs every webhook call
    whatsapp_verify_token: SecretStr | None = None  # answers Meta's subscription check
    whatsapp_rate: float = 80.0  # messages per second from the number, all processes
    # one person: a burst of up to 45 messages, then one every 6 s (WhatsApp's pair limit)
    whatsapp_chat_interval: float = 6.0
    whatsapp_chat_burst: int = 45

    # Telegram (on when a token is set)
    telegram_token: SecretStr | None = None
    telegram_runtime: Literal["ptb", "aiogram"] = "ptb"
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None  # public base URL; /webhooks/telegram is added
    telegram_webhook_secret: SecretStr | None = None
    telegram_poll_timeout: int = 25
    telegram_rate: float = 30.0  # messages per second, all chats together
    telegram_chat_interval: float = 1.0  # seconds between two messages to one chat
    telegram_group_per_minute: int = 20
    # seconds between two looks at the team: a staff member added, removed or given another
    # role by `wasl staff` gets their command menu while the bot runs
    telegram_team_check: float = 30.0

    @field_validator("web_allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """Comma- or space-separated in the environment: https://a.org.sa https://b.org"""
        if isinstance(value, str):
            value = [o.strip().rstrip("/") for o in value.replace(",", " ").split() if o.strip()]
        for origin in value if isinstance(value, list) else ():
            if not isinstance(origin, str) or not ORIGIN.fullmatch(origin):
                raise ValueError(f"not an origin (https://host or https://host:port): {origin!r}")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        """Comma- or space-separated: 127.0.0.1 10.0.0.0/8 ::1"""
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, list):
            return value
        found = []
        for item in value:
            try:
                found.append(str(ipaddress.ip_network(item, strict=False)) if "/" in str(item)
                             else str(ipaddress.ip_address(item)))
            except ValueError:
                raise ValueError(f"not an IP address or network: {item!r}") from None
        return found


def settings(**overrides: object) -> Settings:
    """Environment first, then whatever the command line gave (None means not given)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
