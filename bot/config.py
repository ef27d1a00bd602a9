"""Typed settings, read once at start from WASL_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WASL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///data/wasl.db"
    profile: str = "bakkah"
    auto_migrate: bool = True  # the embedded default migrates itself; see docs/operations.md
    log_level: str = "WARNING"
    telegram_token: SecretStr | None = None
    locales_dir: Path | None = None


def settings(**overrides: object) -> Settings:
    """Environment first, then whatever the command line gave (None means not given)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
