"""Saving runtime state with ``Store`` while changes keep coming."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.storage import Store


class DelayedSave:
    """Write a store within ``delay`` seconds of a change, however busy it is.

    ``Store.async_delay_save`` postpones a pending write on every call, so state that
    changes more often than the delay (a busy gateway, a large building) would never be
    written before shutdown, and a crash would lose it. One delayed save is scheduled at a
    time; the first change after it ran schedules the next.
    """

    def __init__(
        self, store: Store[dict[str, Any]], data: Callable[[], dict[str, Any]], delay: float
    ) -> None:
        """Save what ``data`` returns, at most ``delay`` seconds after a change."""
        self.store = store
        self._data = data
        self._delay = delay
        self._pending = False

    @callback
    def schedule(self) -> None:
        """Something changed: make sure a save runs within the delay."""
        if not self._pending:
            self._pending = True
            self.store.async_delay_save(self._data_to_save, self._delay)

    def _data_to_save(self) -> dict[str, Any]:
        self._pending = False
        return self._data()

    async def async_save_now(self) -> None:
        """Write now (at unload); replaces a pending delayed save."""
        self._pending = False
        await self.store.async_save(self._data())
