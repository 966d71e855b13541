"""Every dispatcher signal of the integration's gateway wing, declared once and typed.

A ``SignalTypeFormat`` is formatted with its key (``SIGNAL_X.format(dev_eui)``); the
type parameters are what a receiver is called with, so mypy checks senders and
receivers against one declaration, as Home Assistant core does.

Shared by both wings:

- ``SIGNAL_DEVICE_CHANGED`` (per DevEUI, any gateway): a device's state changed. Sent
  with what an uplink applied and when it was received, or ``(None, None)`` when only
  its availability, config or gateway silence changed. The building wing listens.

The gateway wing's own (per gateway entry); entities follow these only, see
``gateway/entity.py``:

- ``SIGNAL_DEVICE_UPDATED`` (entry id, DevEUI): the entities of one device re-read it.
- ``SIGNAL_GATEWAY_UPDATED`` (entry id): the gateway's counters changed (at most
  once a second).
- ``SIGNAL_NEW_FIELDS`` (entry id): a generic device learned fields (argument: the
  DevEUI); the platforms add their entities.

The building wing's own signals (apartments, water, snow) live with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from homeassistant.util.signal_type import SignalTypeFormat

from .angelib.device import ApplyResult
from .const import DOMAIN

SIGNAL_DEVICE_CHANGED: Final[SignalTypeFormat[ApplyResult | None, datetime | None]] = (
    SignalTypeFormat(f"{DOMAIN}_device_{{}}")
)
SIGNAL_DEVICE_UPDATED: Final[SignalTypeFormat[()]] = SignalTypeFormat(f"{DOMAIN}_{{}}_{{}}")
SIGNAL_GATEWAY_UPDATED: Final[SignalTypeFormat[()]] = SignalTypeFormat(f"{DOMAIN}_{{}}_gateway")
SIGNAL_NEW_FIELDS: Final[SignalTypeFormat[str]] = SignalTypeFormat(f"{DOMAIN}_{{}}_new_fields")
