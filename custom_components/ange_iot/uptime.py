"""Since when Home Assistant has been running in this process (shared by both wings).

What came due before it came due while Home Assistant was not running: a care or meter
alert is then ``late``, and a gateway's silence before it is no evidence against the
gateway (nobody was listening). A reload of an entry is not downtime: the time is kept for
the whole run.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

DATA_ONLINE_SINCE: HassKey[datetime] = HassKey(f"{DOMAIN}_online_since")


def online_since(hass: HomeAssistant) -> datetime:
    """Since when Home Assistant has been running and listening (this process).

    Set when Home Assistant has started (``async_setup``), or at the first use if earlier.
    """
    if (since := hass.data.get(DATA_ONLINE_SINCE)) is None:
        since = hass.data[DATA_ONLINE_SINCE] = dt_util.utcnow()
    return since
