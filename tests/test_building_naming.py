"""How a building's devices are named and placed (issue 11, item 6).

An apartment's device is named by its role, "Care" (translated), and sits in the area of
the apartment's label, so the device page reads "Lgh 1102 ▸ Care" and new entity ids
read ``sensor.lgh_1102_care_status``. Entity ids already registered are never renamed
(Home Assistant keeps an entity id for its unique id). The building's device keeps the
building's title and gets no area: HA has no nested areas, and an area "Solbacken"
would hold only the building-wide entities while the apartments are in areas of their own.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.angelib.simulator import DEMO_DEVICES, Role
from custom_components.ange_iot.const import DOMAIN

from .common import BUILDING_OPTIONS

BUILDING_ID = "naming"
MOTION = {d.area: d.dev_eui for d in DEMO_DEVICES if d.role is Role.MOTION}
OLD = "Lgh 1101"  # an apartment from before: its entities were registered with old ids
NEW = "Lgh 1102"  # an apartment whose entities are registered now


def _building() -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=BUILDING_ID,
        title="Solbacken",
        data={"kind": "building"},
        options=BUILDING_OPTIONS,
        subentries_data=[
            ConfigSubentryDataWithId(
                subentry_id=f"apt_{label.removeprefix('Lgh ')}",
                subentry_type="apartment",
                title=label,
                unique_id=None,
                data={"label": label, "sensors": [MOTION[label]], "enabled": True},
            )
            for label in (OLD, NEW)
        ],
    )


async def test_apartment_device_is_care_in_the_apartments_area(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    area_registry: ar.AreaRegistry,
) -> None:
    """New ids without the doubled label; old ids kept; device "Care" in the apartment."""
    # Registered by an earlier version, when the device was named like its area.
    old = entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{BUILDING_ID}_apt_1101_care_status",
        suggested_object_id="lgh_1101_lgh_1101_care_status",
    )
    assert old.entity_id == "sensor.lgh_1101_lgh_1101_care_status"
    building = _building()
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()

    def entity_id(platform: str, subentry_id: str, key: str) -> str | None:
        unique_id = f"{BUILDING_ID}_{subentry_id}_{key}"
        return entity_registry.async_get_entity_id(platform, DOMAIN, unique_id)

    assert entity_id("sensor", "apt_1101", "care_status") == old.entity_id  # never renamed
    assert hass.states.get(old.entity_id) is not None
    assert entity_id("sensor", "apt_1102", "care_status") == "sensor.lgh_1102_care_status"
    assert entity_id("switch", "apt_1102", "care_checks_paused") == (
        "switch.lgh_1102_care_checks_paused"
    )
    assert entity_id("button", "apt_1102", "acknowledge_care") == "button.lgh_1102_care_acknowledge"

    for label in (OLD, NEW):
        subentry_id = f"apt_{label.removeprefix('Lgh ')}"
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, f"apartment_{subentry_id}"), BUILDING_ID
        )
        assert device is not None
        assert device.name == "Care"  # "Lgh 1102 ▸ Care", not "Lgh 1102 ▸ Lgh 1102"
        area = area_registry.async_get_area(device.area_id or "")
        assert area is not None
        assert area.name == label

    building_device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"building_{BUILDING_ID}"), BUILDING_ID
    )
    assert building_device is not None
    assert building_device.name == "Solbacken"
    assert building_device.area_id is None
    assert hass.states.get("sensor.solbacken_apartments_needing_attention") is not None


async def test_relabelled_apartment_moves_to_its_new_area(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    area_registry: ar.AreaRegistry,
) -> None:
    """A new label moves the device to that area, unless someone put it elsewhere."""
    building = _building()
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    elsewhere = area_registry.async_create("Kontor")
    moved = device_registry.async_get_device_by_identifier(
        (DOMAIN, "apartment_apt_1101"), BUILDING_ID
    )
    assert moved is not None
    device_registry.async_update_device(moved.id, area_id=elsewhere.id)

    for subentry_id, label in (("apt_1101", "Lgh 1201"), ("apt_1102", "Lgh 1202")):
        subentry = building.subentries[subentry_id]
        hass.config_entries.async_update_subentry(
            building, subentry, data={**subentry.data, "label": label}, title=label
        )
    await hass.async_block_till_done()

    kept = device_registry.async_get_device_by_identifier(
        (DOMAIN, "apartment_apt_1101"), BUILDING_ID
    )
    assert kept is not None
    assert kept.area_id == elsewhere.id  # where someone put it
    followed = device_registry.async_get_device_by_identifier(
        (DOMAIN, "apartment_apt_1102"), BUILDING_ID
    )
    assert followed is not None
    assert followed.name == "Care"
    area = area_registry.async_get_area(followed.area_id or "")
    assert area is not None
    assert area.name == "Lgh 1202"
