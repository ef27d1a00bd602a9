"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import pytest

from tests.e2e.sim import Simulator
from tests.fakes.telegram import FakeTelegram


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
