"""End-to-end tests start real processes; they need no in-process hass fixture."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the HA-level autouse fixture: no in-process hass for these tests."""


@pytest.fixture(autouse=True)
def e2e_sockets(socket_enabled: None) -> None:
    """Talk to the processes the tests start.

    pytest-homeassistant-custom-component disables sockets for every test and allows
    connections to 127.0.0.1 only; that restriction stays, so nothing here can reach
    another host. Module-scoped fixtures set up before this one call
    ``pytest_socket.enable_socket()`` themselves.
    """
