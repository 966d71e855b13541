"""Device subentries applied in place: a device added, changed or removed, no reload.

``DeviceChanges.async_apply`` compares what runs (the pipeline's device configs) with
the entry's device subentries, so nothing is applied twice or missed; the other devices
are not touched, their uplinks keep flowing. Entity platforms register how they make a
device's entities, so a new or changed device gets its entities from here.

A platform's factory plans a device's entities (unique id, how to build one) and builds
none: ``async_add_device_entities`` builds only those that are not disabled in the entity
registry. Home Assistant adds no disabled entity anyway, but it would first look up or
create its device and update its registry entry, for each of a device's many disabled
diagnostics and alarms at every start. An entity without a registry entry is built, so a
new device's disabled-by-default entities are registered (shown as disabled, to be
enabled); one enabled in the UI is built after the reload Home Assistant does for it
(``RELOAD_AFTER_UPDATE_DELAY``).

Each device is written to the device registry here, once a run (when its first entity is
built), and its entities are bound to that entry (``device_entry``), not given a
``DeviceInfo`` each: Home Assistant would create or update the device once per entity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_platform, entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..angelib import generic
from ..angelib.device import DeviceConfig, DeviceState
from ..angelib.names import device_model, device_name
from ..angelib.pipeline import Pipeline
from ..const import (
    CONF_AREA,
    CONF_DEV_EUI,
    CONF_FIELDS,
    CONF_INVERT_DOOR,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_MODEL_TEXT,
    CONF_MOUNTING_HEIGHT,
    CONF_REPORT_INTERVAL,
    CONF_SEEN_FIELDS,
    DOMAIN,
    LOGGER,
    SUBENTRY_DEVICE,
)
from ..router import DeviceOwner, get_router
from ..signals import SIGNAL_DEVICE_CHANGED, SIGNAL_DEVICE_UPDATED
from .availability import DeviceAvailability


class PlannedEntity(NamedTuple):
    """An entity a device has: its unique id, and how to build it (only if it is wanted)."""

    unique_id: str
    create: Callable[[], Entity]


# How an entity platform plans the entities of one device (by DevEUI).
type DeviceEntityFactory = Callable[[str], list[PlannedEntity]]


@callback
def registry_disabled(registry: er.EntityRegistry, platform: str, unique_id: str) -> bool:
    """Is the entity registered and disabled (by the user, by default, with its device)?"""
    entity_id = registry.async_get_entity_id(platform, DOMAIN, unique_id)
    if entity_id is None:
        return False
    entry = registry.async_get(entity_id)
    return entry is not None and entry.disabled


def device_config_from_subentry(data: Mapping[str, Any], title: str) -> DeviceConfig:
    """Build the pure device config from a device subentry's data."""
    height = data.get(CONF_MOUNTING_HEIGHT)
    return DeviceConfig(
        dev_eui=data[CONF_DEV_EUI],
        model_id=data[CONF_MODEL],
        name=title,
        report_interval_s=data.get(CONF_REPORT_INTERVAL),
        missed_reports=data.get(CONF_MISSED_REPORTS, 3),
        invert_door=data.get(CONF_INVERT_DOOR, False),
        mounting_height_mm=int(height) if height else None,
        area=data.get(CONF_AREA) or None,
        field_overrides=generic.parse_overrides(data.get(CONF_FIELDS)),
        model_text=data.get(CONF_MODEL_TEXT) or None,
    )


def seed_generic_state(state: DeviceState, data: Mapping[str, Any]) -> None:
    """A new generic device starts with the fields its discovering uplink showed."""
    if state.generic is not None:
        return
    state.generic = generic.GenericState()
    seen = data.get(CONF_SEEN_FIELDS)
    if isinstance(seen, list):
        state.generic = generic.GenericState.from_dict({"fields": seen})


class DeviceChanges:
    """Applies one gateway entry's device subentries to what runs, in place."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        owner: DeviceOwner,
        *,
        pipeline: Pipeline,
        subentry_ids: dict[str, str],
        availability: DeviceAvailability,
        device_added: Callable[[str], None],
        save: Callable[[], None],
    ) -> None:
        """Work on the hub's pipeline, subentry ids and availability (shared, not copied)."""
        self.hass = hass
        self.entry = entry
        self.owner = owner  # owns the entry's devices in the router
        self.pipeline = pipeline
        self.subentry_ids = subentry_ids  # dev_eui -> subentry id
        self.availability = availability
        self._device_added = device_added
        self._save = save
        # The entry's subentries mapping last applied (HA replaces it when one is added or
        # removed; a changed subentry is updated in place, so this only tells of those two).
        self.applied: Mapping[str, ConfigSubentry] | None = None
        # Per entity platform: how it makes a device's entities, and its add callback.
        self.entity_factories: dict[
            str, tuple[DeviceEntityFactory, AddConfigEntryEntitiesCallback]
        ] = {}
        self.gateway_device_id = ""  # the gateway's device: every device is "via" it
        # dev_eui -> device registry id, of the devices registered in this run.
        self.device_ids: dict[str, str] = {}

    @callback
    def device_entry(self, dev_eui: str) -> dr.AnyDeviceEntry | None:
        """The device's registry entry; created or refreshed at its first entity of a run."""
        devices = dr.async_get(self.hass)
        if (device_id := self.device_ids.get(dev_eui)) is not None:
            return devices.async_get(device_id)
        config = self.pipeline.devices[dev_eui].config
        model = config.model
        device = devices.async_get_or_create(
            config_entry_id=self.entry.entry_id,
            config_subentry_id=self.subentry_ids[dev_eui],
            identifiers={(DOMAIN, dev_eui)},
            name=device_name(config.name, config.area),
            manufacturer=model.manufacturer or None,
            model=device_model(config),
            model_id=model.id,
            serial_number=dev_eui.upper(),
            via_device_id=self.gateway_device_id,
            suggested_area=config.area or None,
        )
        self.device_ids[dev_eui] = device.id
        return device

    @callback
    def async_register_entity_factory(
        self,
        platform: str,
        factory: DeviceEntityFactory,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        """An entity platform set up: add its entities of every device, and later ones."""
        self.entity_factories[platform] = (factory, async_add_entities)
        for dev_eui in self.subentry_ids:
            self.async_add_device_entities(platform, dev_eui, factory(dev_eui))

    @callback
    def async_add_device_entities(
        self, platform: str, dev_eui: str, planned: Iterable[PlannedEntity]
    ) -> None:
        """Build and add a device's planned entities of one platform, but no disabled one."""
        registry = er.async_get(self.hass)
        _factory, async_add_entities = self.entity_factories[platform]
        async_add_entities(
            [
                entity.create()
                for entity in planned
                if not registry_disabled(registry, platform, entity.unique_id)
            ],
            config_subentry_id=self.subentry_ids[dev_eui],
        )

    @property
    def pending(self) -> bool:
        """Was a subentry added or removed since the subentries were last applied?"""
        return self.entry.subentries is not self.applied

    @callback
    def async_apply(self) -> None:
        """Make the running devices match the entry's device subentries, in place.

        Synchronous, so two changes in a row cannot interleave.
        """
        subentries = self.entry.subentries
        self.applied = subentries
        wanted = {
            sid: device_config_from_subentry(s.data, s.title)
            for sid, s in subentries.items()
            if s.subentry_type == SUBENTRY_DEVICE
        }
        running = {sid: dev_eui for dev_eui, sid in self.subentry_ids.items()}
        for sid, dev_eui in running.items():
            config = wanted.get(sid)
            if config is None or config.dev_eui != dev_eui:
                self._async_remove_device(sid, dev_eui)
        for sid, config in wanted.items():
            tracked = self.pipeline.devices.get(config.dev_eui)
            if tracked is not None:  # learned at run time, not configured
                config.learned_interval_s = tracked.config.learned_interval_s
            if self.subentry_ids.get(config.dev_eui) != sid:
                self._async_add_device(sid, config)
            elif tracked is not None and tracked.config != config:
                self._async_update_device(sid, config)

    def _async_add_device(self, subentry_id: str, config: DeviceConfig) -> None:
        """A new device: tracked, owned, timed, its device and entities created."""
        dev_eui = config.dev_eui
        state = DeviceState()
        if config.is_generic:
            seed_generic_state(state, self.entry.subentries[subentry_id].data)
        self.pipeline.add_device(config, state)
        self.subentry_ids[dev_eui] = subentry_id
        router = get_router(self.hass)
        if (other := router.owners.get(dev_eui)) is not None and other is not self.owner:
            LOGGER.warning(
                "DevEUI %s is added to both %s and %s; uplinks go to %s",
                dev_eui, other.entry.title, self.entry.title, other.entry.title,
            )  # fmt: skip
        else:
            router.owners[dev_eui] = self.owner
        self.availability.async_schedule(dev_eui)
        for platform, (factory, _add) in self.entity_factories.items():
            self.async_add_device_entities(platform, dev_eui, factory(dev_eui))
        self._device_added(dev_eui)
        self._save()
        async_dispatcher_send(self.hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), None, None)

    def _async_update_device(self, subentry_id: str, config: DeviceConfig) -> None:
        """A changed device: new config, same state; only entities it gains or loses change."""
        dev_eui = config.dev_eui
        tracked = self.pipeline.add_device(config)  # keeps the device's state
        if config.is_generic:
            seed_generic_state(tracked.state, self.entry.subentries[subentry_id].data)
        self.availability.cancel(dev_eui)
        if tracked.state.last_seen is not None:
            self.availability.set(dev_eui, tracked.state.available(config, dt_util.utcnow()))
        self.availability.async_schedule(dev_eui)
        registry = er.async_get(self.hass)
        wanted: set[tuple[str, str]] = set()
        for platform, (factory, _add) in self.entity_factories.items():
            wanted.update((platform, entity.unique_id) for entity in factory(dev_eui))
        # Its entities are built anew from the new config (a corrected unit or meaning, a
        # new name); their ids stay. The other devices' entities are not touched.
        self.hass.async_create_task(
            self._async_rebuild_entities(subentry_id, dev_eui),
            f"{DOMAIN} rebuild entities of {dev_eui}",
            eager_start=True,
        )
        for entry in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            if (
                entry.config_subentry_id == subentry_id
                and entry.domain in self.entity_factories
                and (entry.domain, entry.unique_id) not in wanted
            ):
                registry.async_remove(entry.entity_id)  # e.g. another model, no mounting height
        devices = dr.async_get(self.hass)
        if device := devices.async_get_device_by_identifier((DOMAIN, dev_eui), self.entry.entry_id):
            devices.async_update_device(  # what a reload would write (the area stays)
                device.id,
                name=device_name(config.name, config.area),
                manufacturer=config.model.manufacturer,
                model=device_model(config),
                model_id=config.model.id,
            )
        async_dispatcher_send(self.hass, SIGNAL_DEVICE_UPDATED.format(self.entry.entry_id, dev_eui))
        async_dispatcher_send(self.hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), None, None)

    async def _async_rebuild_entities(self, subentry_id: str, dev_eui: str) -> None:
        """Replace the live entities of one changed device with ones from its new config."""
        live = [
            entity
            for platform in entity_platform.async_get_platforms(self.hass, DOMAIN)
            if platform.config_entry is not None
            and platform.config_entry.entry_id == self.entry.entry_id
            and platform.domain in self.entity_factories
            for entity in list(platform.entities.values())
            if entity.registry_entry is not None
            and entity.registry_entry.config_subentry_id == subentry_id
        ]
        for entity in live:
            await entity.async_remove()
        if self.subentry_ids.get(dev_eui) != subentry_id:
            return  # removed meanwhile
        for platform, (factory, _add) in self.entity_factories.items():
            self.async_add_device_entities(platform, dev_eui, factory(dev_eui))

    def _async_remove_device(self, subentry_id: str, dev_eui: str) -> None:
        """A removed device: untracked, its timer, ownership, entities and device gone."""
        self.availability.forget(dev_eui)
        self.pipeline.remove_device(dev_eui)
        self.subentry_ids.pop(dev_eui, None)
        self.device_ids.pop(dev_eui, None)
        router = get_router(self.hass)
        if router.owners.get(dev_eui) is self.owner:
            del router.owners[dev_eui]
        # As Home Assistant does when it removes the subentry (a second clear is a no-op).
        entry_id = self.entry.entry_id
        er.async_get(self.hass).async_clear_config_subentry(entry_id, subentry_id)
        dr.async_get(self.hass).async_clear_config_subentry(entry_id, subentry_id, DOMAIN)
        self._save()
        async_dispatcher_send(self.hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), None, None)


@callback
def async_apply_pending(hass: HomeAssistant) -> bool:
    """Apply devices added moments ago whose update listener has not run yet.

    For an uplink of a DevEUI no entry owns: the first uplink after its subentry exists
    is applied, not dropped. Returns whether anything was pending.
    """
    pending = False
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        changes = getattr(getattr(entry, "runtime_data", None), "changes", None)
        if isinstance(changes, DeviceChanges) and changes.pending:
            changes.async_apply()
            pending = True
    return pending
