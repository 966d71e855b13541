"""A gateway entry under Home Assistant's cap of enabled entities per config entry."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.const import DOMAIN
from custom_components.ange_iot.gateway import capacity
from custom_components.ange_iot.gateway.button import ACCEPT_READING

from .common import METER_1101

# Water meters of a town in one network-server application, or an apartment block's
# room sensors: each must fit in one gateway entry (issue 13).
TARGET_METERS = 5000
TARGET_ERS = 2500


def test_enabled_entities_per_model() -> None:
    """Count the descriptions enabled by default per modelled kind; they fit the targets.

    10,000 / 5,000 water meters = 2 enabled entities each (reading and "Meter problem"),
    10,000 / 2,500 Elsys ERS = 4 (temperature, humidity, illuminance, battery voltage),
    with none on the gateway device itself.
    """
    assert capacity.MAX_ENABLED == MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY == 10_000
    assert capacity.gateway_enabled_by_default() == 0
    per_model = {
        model: capacity.enabled_by_default(capacity.model_config(model))
        for model in ("kamstrup_flowiq_2200", "axioma_w1", "elsys_ers")
    }
    for meter in ("kamstrup_flowiq_2200", "axioma_w1"):
        assert per_model[meter]["sensor"] == ["volume"], meter
        assert per_model[meter]["binary_sensor"] == ["meter_problem"], meter
    assert per_model["elsys_ers"] == {
        "sensor": ["temperature", "humidity", "illuminance", "battery_voltage"],
        "binary_sensor": [],
        "button": [],
    }
    ers = capacity.enabled_per_device(capacity.model_config("elsys_ers"))
    assert ers <= 4
    assert capacity.devices_per_entry(ers) >= TARGET_ERS
    sensors_and_binary = {
        meter: len(per_model[meter]["sensor"]) + len(per_model[meter]["binary_sensor"])
        for meter in ("kamstrup_flowiq_2200", "axioma_w1")
    }
    assert max(sensors_and_binary.values()) <= 2
    assert capacity.devices_per_entry(2) >= TARGET_METERS
    # ...plus "Accept new reading" (button.py) while that button is enabled by default:
    # then 3 per meter and 3,333 meters per entry.
    accept = int(bool(ACCEPT_READING.entity_registry_enabled_default))
    for meter in ("kamstrup_flowiq_2200", "axioma_w1"):
        assert per_model[meter]["button"] == (["accept_meter_reading"] if accept else [])
        total = capacity.enabled_per_device(capacity.model_config(meter))
        assert total == 2 + accept, meter


def test_every_model_is_counted() -> None:
    """No catalogue model enables more than the ERS with the most measurements (6)."""
    per_model = capacity.enabled_per_model()
    assert set(per_model) == set(capacity.MODELS)
    assert all(1 <= n <= 6 for n in per_model.values()), per_model


async def test_issue_before_the_cap(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From 90 % of the cap on, a repair issue names the count and how to split.

    The demo site's count stands for a large one: the cap is lowered to just above it.
    """
    hub = init_integration.runtime_data
    count = capacity.async_check_capacity(hub)
    enabled = [
        e
        for e in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if e.disabled_by is None
    ]
    assert count == len(enabled) > 0
    issue_id = capacity.issue_id(init_integration.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    monkeypatch.setattr(capacity, "MAX_ENABLED", count + 1)
    # Any change to the entry (here its title; usually a device added) applies the devices
    # in place and checks the count again.
    hass.config_entries.async_update_entry(init_integration, title="Ånge LSS demo (stor)")
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "entity_cap_near"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "gateway": init_integration.title,
        "count": str(count),
        "max": str(count + 1),
        "devices": str(len(hub.subentry_ids)),
        "threshold": str(int(0.9 * (count + 1))),
    }

    monkeypatch.setattr(capacity, "MAX_ENABLED", count)
    capacity.async_check_capacity(hub)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR  # at the cap: new devices get none

    monkeypatch.setattr(capacity, "MAX_ENABLED", MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY)
    capacity.async_check_capacity(hub)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_devices_not_yet_registered_count_their_defaults(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """A device being added counts its enabled-by-default entities before they exist."""
    hub = init_integration.runtime_data
    before = capacity.enabled_count(hub)
    dev_eui = METER_1101
    for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id):
        if entry.unique_id.startswith(f"{dev_eui}_"):
            entity_registry.async_remove(entry.entity_id)
    assert capacity.enabled_count(hub) == before  # counted from its defaults now


async def test_button_disabled_by_default(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Rarely needed (Repairs asks when it is): registered, but disabled by default."""
    button_id = entity_registry.async_get_entity_id(
        "button", DOMAIN, f"{METER_1101}_accept_meter_reading"
    )
    assert button_id is not None
    entry = entity_registry.async_get(button_id)
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
