"""Button of Ånge IoT: accept a water meter's lower reading, and the volume guard behind it."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
import json
import logging
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.angelib.pipeline import Outcome
from custom_components.ange_iot.const import DOMAIN, SAVE_DELAY_S

from .common import (
    METER_1101,
    MOTION_1101,
    async_tick,
    capture_logs,
    entity_id,
    meter_event,
)

# The button is disabled by default (the repair issue's fix does the same); enabled here.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "ange_iot" / "translations"
ALL_PLATFORMS = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]
FIRST_VOLUME = 53.217  # m³ on Lgh 1101's meter at start (demo seed)


@pytest.fixture
def platforms() -> list[Platform]:
    """Only the button platform."""
    return [Platform.BUTTON]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_all_entities(
    hass: HomeAssistant,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Snapshot the buttons: one per water meter, available like the meter."""
    await snapshot_platform(hass, entity_registry, snapshot, first_reports.entry_id)


async def test_button_per_water_meter(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Seven water meters, seven buttons; a configuration entity with a translated name."""
    entries = er.async_entries_for_config_entry(entity_registry, first_reports.entry_id)
    assert len(entries) == 7
    for entry in entries:
        assert entry.entity_category is EntityCategory.CONFIG
        assert entry.translation_key == "accept_meter_reading"
        assert entry.original_name
        state = hass.states.get(entry.entity_id)
        assert state is not None
        assert state.state == STATE_UNKNOWN  # never pressed; not "unavailable" (looks broken)
    for language in ("en", "sv"):
        names = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
        assert names["entity"]["button"]["accept_meter_reading"]["name"]
    assert (
        entity_registry.async_get_entity_id(
            "button", "ange_iot", f"{MOTION_1101}_accept_meter_reading"
        )
        is None
    )


def _stored_meter(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    stored: dict[str, Any] = hass_storage[f"ange_iot.{entry.entry_id}.devices"]["data"]
    return stored["devices"][METER_1101]


@pytest.mark.parametrize("platforms", [ALL_PLATFORMS])
async def test_decreasing_volume_and_accept(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    hass_storage: dict[str, Any],
) -> None:
    """A lower reading is held back and flagged; the button accepts it and it persists."""
    hub = first_reports.runtime_data
    volume_id = entity_id(entity_registry, "sensor", METER_1101, "volume")
    flag_id = entity_id(entity_registry, "binary_sensor", METER_1101, "meter_problem")
    button_id = entity_id(entity_registry, "button", METER_1101, "accept_meter_reading")

    def state(eid: str) -> str:
        current = hass.states.get(eid)
        assert current is not None
        return current.state

    assert float(state(volume_id)) == pytest.approx(FIRST_VOLUME)
    assert state(flag_id) == STATE_OFF
    assert state(button_id) == STATE_UNKNOWN

    # The meter was swapped: the new one starts at 12.5 m³.
    result = hub.async_handle_chirpstack(meter_event(volume_l=12_500, fcnt=100), source="test")
    await hass.async_block_till_done()
    assert result is not None
    assert result.outcome is Outcome.APPLIED
    assert float(state(volume_id)) == pytest.approx(FIRST_VOLUME)  # not fed to statistics
    assert state(flag_id) == STATE_ON
    assert state(button_id) == STATE_UNKNOWN  # never pressed

    await async_tick(hass, freezer, timedelta(seconds=SAVE_DELAY_S + 1))
    stored = _stored_meter(hass_storage, first_reports)
    assert stored["volume_decreased"] is True
    assert stored["values"]["volume"] == pytest.approx(FIRST_VOLUME)

    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: button_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert float(state(volume_id)) == pytest.approx(12.5)
    assert state(flag_id) == STATE_OFF
    assert state(button_id) not in (STATE_UNKNOWN, STATE_UNAVAILABLE)  # when it was pressed

    # The press is persisted on its own (no uplink needed to trigger the save).
    await async_tick(hass, freezer, timedelta(seconds=SAVE_DELAY_S + 1))
    stored = _stored_meter(hass_storage, first_reports)
    assert stored["volume_decreased"] is False
    assert stored["rejected_volume"] is None
    assert stored["values"]["volume"] == pytest.approx(12.5)

    # From the new baseline, higher readings count again.
    hub.async_handle_chirpstack(meter_event(volume_l=12_600, fcnt=101), source="test")
    await hass.async_block_till_done()
    assert float(state(volume_id)) == pytest.approx(12.6)
    assert state(flag_id) == STATE_OFF


@pytest.mark.parametrize("platforms", [ALL_PLATFORMS])
async def test_higher_reading_clears_flag(
    hass: HomeAssistant,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A glitch (one low frame, then normal readings) clears itself without a press."""
    hub = first_reports.runtime_data
    volume_id = entity_id(entity_registry, "sensor", METER_1101, "volume")
    flag_id = entity_id(entity_registry, "binary_sensor", METER_1101, "meter_problem")
    button_id = entity_id(entity_registry, "button", METER_1101, "accept_meter_reading")

    with capture_logs(caplog) as logs:
        hub.async_handle_chirpstack(meter_event(volume_l=53_000, fcnt=100), source="test")
        hub.async_handle_chirpstack(meter_event(volume_l=53_010, fcnt=101), source="test")
        await hass.async_block_till_done()
        assert (flag := hass.states.get(flag_id)) is not None
        assert flag.state == STATE_ON
        assert (volume := hass.states.get(volume_id)) is not None
        assert float(volume.state) == pytest.approx(FIRST_VOLUME)
        # One warning for the episode, not one per frame.
        assert len(logs.messages(logging.WARNING, "below its last reading")) == 1

        hub.async_handle_chirpstack(meter_event(volume_l=53_250, fcnt=102), source="test")
        await hass.async_block_till_done()
    assert (flag := hass.states.get(flag_id)) is not None
    assert flag.state == STATE_OFF
    assert (volume := hass.states.get(volume_id)) is not None
    assert float(volume.state) == pytest.approx(53.25)
    assert (button := hass.states.get(button_id)) is not None
    assert button.state == STATE_UNKNOWN
    assert not hub.device(METER_1101).state.volume_decreased

    # A new episode later is warned about again.
    with capture_logs(caplog) as logs:
        hub.async_handle_chirpstack(meter_event(volume_l=53_100, fcnt=103), source="test")
        await hass.async_block_till_done()
    assert len(logs.messages(logging.WARNING, "below its last reading")) == 1
    assert (flag := hass.states.get(flag_id)) is not None
    assert flag.state == STATE_ON


@pytest.mark.parametrize("platforms", [ALL_PLATFORMS])
async def test_press_with_nothing_to_accept(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """A press without a lower reading waiting says so (translated) and changes nothing."""
    volume_id = entity_id(entity_registry, "sensor", METER_1101, "volume")
    button_id = entity_id(entity_registry, "button", METER_1101, "accept_meter_reading")
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: button_id}, blocking=True
        )
    assert raised.value.translation_domain == "ange_iot"
    assert raised.value.translation_key == "no_reading_to_accept"
    assert raised.value.translation_placeholders == {"meter": "Lgh 1101 vattenmätare"}
    assert (volume := hass.states.get(volume_id)) is not None
    assert float(volume.state) == pytest.approx(FIRST_VOLUME)
    assert not first_reports.runtime_data.device(METER_1101).state.volume_decreased


@pytest.mark.parametrize("platforms", [ALL_PLATFORMS])
async def test_reading_backwards_is_fixed_in_repairs(
    hass: HomeAssistant,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
    hass_client: ClientSessionGenerator,
) -> None:
    """A replaced meter: Settings › Repairs asks, and its fix accepts the new reading."""
    assert await async_setup_component(hass, "repairs", {})
    hub = first_reports.runtime_data
    volume_id = entity_id(entity_registry, "sensor", METER_1101, "volume")
    issue_id = f"meter_reading_backwards_{METER_1101}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    hub.async_handle_chirpstack(meter_event(volume_l=12_500, fcnt=100), source="test")
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == "meter_reading_backwards"
    assert issue.translation_placeholders == {
        "meter": "Lgh 1101 vattenmätare",
        "reading": "12.500",
        "previous": f"{FIRST_VOLUME:.3f}",
    }

    client = await hass_client()
    resp = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert resp.status == HTTPStatus.OK
    flow = await resp.json()
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"]["reading"] == "12.500"
    resp = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert resp.status == HTTPStatus.OK
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done()

    assert (volume := hass.states.get(volume_id)) is not None
    assert float(volume.state) == pytest.approx(12.5)
    assert not hub.device(METER_1101).state.volume_decreased
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize("platforms", [ALL_PLATFORMS])
async def test_reading_backwards_issue_clears_by_itself(
    hass: HomeAssistant, first_reports: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """A glitch: a normal reading again takes the question away; nothing was accepted."""
    hub = first_reports.runtime_data
    issue_id = f"meter_reading_backwards_{METER_1101}"
    hub.async_handle_chirpstack(meter_event(volume_l=53_000, fcnt=100), source="test")
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    hub.async_handle_chirpstack(meter_event(volume_l=53_250, fcnt=101), source="test")
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
