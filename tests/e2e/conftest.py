"""End-to-end tests start real processes; they need no in-process hass fixture."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the HA-level autouse fixture: no in-process hass for these tests."""
