"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.sim import Simulator
from tests.fakes.telegram import FakeTelegram
from tests.fakes.whatsapp import FakeWhatsApp


@pytest.fixture
def sim(db):
    """A `wasl simulate` process on the module's `db`, killed if a test leaves it running."""
    s = Simulator(db)
    yield s
    if s.proc.poll() is None:
        s.kill()


@pytest.fixture
def fake():
    """The local fake of the Telegram Bot API, on a free port of 127.0.0.1."""
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeWhatsApp]:
    """The local fake of the WhatsApp Graph API, one per test module."""
    fake = FakeWhatsApp().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    """The fake Bot API, one per test module (for modules whose server lives that long)."""
    fake = FakeTelegram().start()
    yield fake
    fake.stop()
