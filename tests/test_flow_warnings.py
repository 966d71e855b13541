"""No flow of the integration makes Home Assistant log a deprecation of ours.

From 2026.12 an entry with an update listener may not be reloaded by
``async_update_reload_and_abort``: HA logs "Detected that custom integration 'ange_iot'
has an update listener and should use it for scheduling a reload" until then, and the
flows' reloads stop working after. Our flows schedule the reload of a changed
connection themselves; options and subentries are applied in place by the listener.
"""

from __future__ import annotations

from http import HTTPStatus
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.ange_iot.const import (
    CONF_BACKFILL,
    CONF_DEV_EUI,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_REPORT_INTERVAL,
    CONF_SILENCE_LIMIT,
    GATEWAY_TTS_WEBHOOK,
    SUBENTRY_DEVICE,
)

from .building import OPTIONS, apartment_data, building_entry, open_care_defaults, sub_id
from .test_gateway_tts import ERS, NEW_KEY, NOW, STORAGE, tts_config_entry

DEPRECATION = "Detected that custom integration"
NEW_EUI = "a81758fffe0a5555"


async def test_flows_log_no_deprecation(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Reauthentication, reconfiguration, options and subentry flows of a gateway and
    a building: each does its job, and Home Assistant reports nothing about us.
    """
    caplog.set_level(logging.WARNING)
    freezer.move_to(NOW)
    gateway = tts_config_entry(GATEWAY_TTS_WEBHOOK, backfill=True)
    gateway.add_to_hass(hass)
    aioclient_mock.get(STORAGE, status=HTTPStatus.UNAUTHORIZED)
    assert await hass.config_entries.async_setup(gateway.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    # Reauthentication: the new key is stored and the gateway reloads with it.
    [flow] = hass.config_entries.flow.async_progress()
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    aioclient_mock.clear_requests()
    aioclient_mock.get(STORAGE, text="")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: NEW_KEY}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["reason"] == "reauth_successful"
    assert aioclient_mock.call_count == 2  # the check, then the reloaded gateway's backfill
    hub = gateway.runtime_data

    # Reconfiguration: backfill off; the gateway reloads without it.
    result = await gateway.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BACKFILL: False}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["reason"] == "reconfigure_successful"
    assert gateway.state is ConfigEntryState.LOADED
    assert gateway.runtime_data is not hub  # a changed connection is reloaded
    hub = gateway.runtime_data

    # Options and a device added, changed and removed: in place.
    result = await hass.config_entries.options.async_init(gateway.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SILENCE_LIMIT: 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    device = {
        CONF_NAME: "Lgh 1104 hall", CONF_MODEL: "elsys_ers", CONF_REPORT_INTERVAL: 10,
        CONF_MISSED_REPORTS: 3,
    }  # fmt: skip
    result = await hass.config_entries.subentries.async_init(
        (gateway.entry_id, SUBENTRY_DEVICE), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**device, CONF_DEV_EUI: NEW_EUI}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    [subentry_id] = [s.subentry_id for s in gateway.subentries.values() if s.unique_id == NEW_EUI]
    result = await gateway.start_subentry_reconfigure_flow(hass, subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**device, CONF_REPORT_INTERVAL: 20}
    )
    assert result["reason"] == "reconfigure_successful"
    assert hub.device(NEW_EUI).config.report_interval_s == 1200
    assert hass.config_entries.async_remove_subentry(gateway, subentry_id)
    await hass.async_block_till_done()
    assert gateway.runtime_data is hub

    # A building: its defaults, an apartment added and reconfigured.
    building = building_entry()
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    result = await open_care_defaults(hass, building)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, "morning_deadline": "09:30:00"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "apartment"), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**apartment_data("Lgh 1101"), "label": "Lgh 1401", "sensors": [ERS]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "apartment"),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub_id("Lgh 1101")},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {**apartment_data("Lgh 1101"), "sensors": [ERS], "own_times": {"grace": {"minutes": 5}}},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    assert DEPRECATION not in caplog.text
