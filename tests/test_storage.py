"""Runtime state is written within its delay even while changes keep coming."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ange_iot.storage import DelayedSave


async def test_busy_state_is_saved_within_the_delay(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A change every second for a minute still gives a save every ten seconds.

    (``Store.async_delay_save`` alone would postpone the write on every change and write
    nothing until the changes stop.)
    """
    counter = {"n": 0}
    saver = DelayedSave(Store(hass, 1, "ange_iot.test.busy"), lambda: dict(counter), 10)
    saved: list[int] = []
    for second in range(1, 61):
        counter["n"] = second
        saver.schedule()
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        stored = hass_storage.get("ange_iot.test.busy")
        if stored and (not saved or stored["data"]["n"] != saved[-1]):
            saved.append(stored["data"]["n"])
    assert len(saved) >= 5
    assert saved == sorted(saved)
    await saver.async_save_now()
    assert hass_storage["ange_iot.test.busy"]["data"]["n"] == 60
