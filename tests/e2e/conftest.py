"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import pytest

from tests.e2e.sim import Simulator


@pytest.fixture
def sim(db):
    """A `wasl simulate` process on the module's `db`, killed if a test leaves it running."""
    s = Simulator(db)
    yield s
    if s.proc.poll() is None:
        s.kill()
