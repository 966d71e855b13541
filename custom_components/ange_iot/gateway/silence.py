"""The gateway silence watchdog: a repair issue when a gateway delivers nothing for long.

One timer per silence period (not per message), so it is cheap at any message rate.
The simulated gateway is never watched. Only silence while Home Assistant was running
counts: after a restart the gateway gets its whole limit to deliver again (the downtime is
no evidence against it, and care checks would otherwise take every sensor for unheard).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_GATEWAY,
    CONF_SILENCE_LIMIT,
    DEFAULT_SILENCE_LIMIT_MIN,
    DOMAIN,
    GATEWAY_SIMULATED,
    LOGGER,
)
from ..uptime import online_since


class SilenceWatchdog:
    """Raises the entry's "gateway silent" issue, and clears it when messages return."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        last_message: Callable[[], datetime | None],
        *,
        on_silent: Callable[[], None],
        on_resumed: Callable[[], None],
    ) -> None:
        """Watch ``last_message``; ``on_silent``/``on_resumed`` run after the issue changed."""
        self.hass = hass
        self.entry = entry
        self._last_message = last_message
        self._on_silent = on_silent
        self._on_resumed = on_resumed
        self._timer: CALLBACK_TYPE | None = None
        self.silent = False  # the repair issue is raised

    @property
    def issue_id(self) -> str:
        """Repair issue id for this gateway going silent."""
        return f"gateway_silent_{self.entry.entry_id}"

    @property
    def limit(self) -> timedelta:
        """How long the gateway may be quiet before a repair issue is raised."""
        minutes = self.entry.options.get(CONF_SILENCE_LIMIT, DEFAULT_SILENCE_LIMIT_MIN)
        return timedelta(minutes=float(minutes))

    @callback
    def async_message_arrived(self) -> None:
        """A message came (``last_message`` is already now): clear the issue, keep watching."""
        if self.silent:
            self.silent = False
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
            LOGGER.info("%s: messages arrive again", self.entry.title)
            self._on_resumed()
        if self._timer is None:
            self.async_start()

    @callback
    def async_limit_changed(self) -> None:
        """Re-arm a running watchdog for a changed ``silence_limit`` option."""
        if self._timer is not None:
            self._timer()
            self._timer = None
            self.async_start()

    @callback
    def async_stop(self) -> None:
        """Cancel the timer (the entry unloads)."""
        if self._timer is not None:
            self._timer()
            self._timer = None

    @callback
    def async_start(self) -> None:
        """Arm the timer for the end of the silence period since the last message."""
        last_message = self._last_message()
        if last_message is None or self.entry.data.get(CONF_GATEWAY) == GATEWAY_SIMULATED:
            return  # never delivered yet: nothing went silent
        listening = max(last_message, online_since(self.hass))
        due = max(listening + self.limit, dt_util.utcnow())

        @callback
        def _check(_scheduled: datetime) -> None:
            self._timer = None
            last = self._last_message()
            now = dt_util.utcnow()
            if last is not None and now - max(last, online_since(self.hass)) < self.limit:
                self.async_start()
                return
            self.silent = True
            self._on_silent()
            LOGGER.warning(
                "%s: no messages since %s (limit %s)", self.entry.title, last, self.limit
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self.issue_id,
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="gateway_silent",
                translation_placeholders={
                    "gateway": self.entry.title,
                    "since": last.isoformat(timespec="minutes") if last else "-",
                    "minutes": str(round(self.limit.total_seconds() / 60)),
                },
            )

        self._timer = async_track_point_in_utc_time(self.hass, _check, due)
