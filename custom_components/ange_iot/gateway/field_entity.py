"""Entities of generic devices: one per field the network server decodes.

Unique ids are ``<deveui>_field_<field key>`` (the field key is the dotted path in the decoded
object, stable across restarts). Names come from the meaning's translation with the field key
as a placeholder, so two temperatures of one device stay apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..angelib.device import DeviceConfig
from ..angelib.generic import FieldSpec, Meaning, ValueKind, effective_fields, value_key
from ..angelib.pipeline import TrackedDevice
from ..const import DOMAIN
from ..signals import SIGNAL_NEW_FIELDS
from .device_changes import PlannedEntity
from .entity import AngeDeviceEntity, device_unique_id
from .hub import GatewayHub


def field_unique_id(dev_eui: str, key: str) -> str:
    """The unique id of a generic device's field entity (its description's key is the same)."""
    return device_unique_id(dev_eui, f"field_{key}")


def generic_fields(hub: GatewayHub, dev_eui: str) -> dict[str, FieldSpec]:
    """A generic device's fields with the facility manager's corrections."""
    tracked = hub.device(dev_eui)
    if tracked.state.generic is None:
        return {}
    return effective_fields(tracked.state.generic, tracked.config.field_overrides)


def shown_fields(hub: GatewayHub, dev_eui: str, kinds: Iterable[ValueKind]) -> list[FieldSpec]:
    """The fields of the given kinds that get an entity (not hidden)."""
    wanted = set(kinds)
    return [
        spec
        for spec in generic_fields(hub, dev_eui).values()
        if spec.kind in wanted and not spec.hidden
    ]


@callback
def async_remove_stale(hub: GatewayHub, dev_eui: str, platform: str, kinds: set[ValueKind]) -> None:
    """Drop registry entries of fields that are hidden or now belong to another platform."""
    registry = er.async_get(hub.hass)
    for spec in generic_fields(hub, dev_eui).values():
        if spec.hidden or spec.kind not in kinds:
            uid = field_unique_id(dev_eui, spec.key)
            if entity_id := registry.async_get_entity_id(platform, DOMAIN, uid):
                registry.async_remove(entity_id)


@callback
def async_follow_new_fields(
    hub: GatewayHub,
    kinds: set[ValueKind],
    add: Callable[[str, list[FieldSpec]], None],
) -> None:
    """Call ``add`` with the not yet added fields of a device when it learned new ones."""
    added: dict[str, set[str]] = {
        dev_eui: {s.key for s in shown_fields(hub, dev_eui, kinds)}
        for dev_eui in hub.subentry_ids
        if hub.device(dev_eui).config.is_generic
    }

    @callback
    def _new_fields(dev_eui: str) -> None:
        if dev_eui not in hub.subentry_ids:
            return
        known = added.setdefault(dev_eui, set())
        fresh = [s for s in shown_fields(hub, dev_eui, kinds) if s.key not in known]
        if fresh:
            known.update(s.key for s in fresh)
            add(dev_eui, fresh)

    hub.entry.async_on_unload(
        async_dispatcher_connect(
            hub.hass, SIGNAL_NEW_FIELDS.format(hub.entry.entry_id), _new_fields
        )
    )


class AngeFieldEntity(AngeDeviceEntity):
    """One field of a generic device."""

    def __init__(self, hub: GatewayHub, dev_eui: str, spec: FieldSpec, description: Any) -> None:
        """Bind to the field; its unique id is the field key's."""
        super().__init__(hub, dev_eui, description)
        self.field_key = spec.key
        self._attr_unique_id = field_unique_id(dev_eui, spec.key)
        self._attr_translation_placeholders = {"field": spec.key}

    @property
    def spec(self) -> FieldSpec | None:
        """The field's current spec (None once forgotten)."""
        return generic_fields(self.hub, self.dev_eui).get(self.field_key)

    @property
    def field_value(self) -> Any:
        """The field's latest value as its kind shows it."""
        return self.device.state.values.get(value_key(self.field_key))

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """What was guessed about the field, and where it came from."""
        spec = self.spec
        if spec is None:
            return None
        return {"field": spec.key, "guessed": spec.guessed, "source": spec.source}


def field_description(
    description_type: Callable[..., EntityDescription], spec: FieldSpec, **kwargs: Any
) -> EntityDescription:
    """An entity description for a field: translation key by meaning, enabled as learned."""
    return description_type(
        key=f"field_{spec.key}",
        translation_key=f"generic_{spec.meaning}",
        entity_registry_enabled_default=spec.enabled,
        **kwargs,
    )


# A resident's movements are personal data: never in diagnostics.
_RESIDENT_MEANINGS = frozenset({Meaning.MOTION, Meaning.OCCUPANCY, Meaning.PRESENCE, Meaning.DOOR})


def generic_resident_keys(tracked: TrackedDevice) -> set[str]:
    """Device-state keys of a generic device's fields about a resident (redacted)."""
    generic_state = tracked.state.generic
    if generic_state is None:
        return set()
    return {
        value_key(key)
        for key, spec in effective_fields(generic_state, tracked.config.field_overrides).items()
        if spec.meaning in _RESIDENT_MEANINGS
    }


def generic_diagnostics(tracked: TrackedDevice) -> dict[str, Any]:
    """What a generic device learned and what went wrong (no values)."""
    generic_state = tracked.state.generic
    if generic_state is None:
        return {"fields": []}
    specs = effective_fields(generic_state, tracked.config.field_overrides)
    return {
        "model_text": tracked.config.model_text,
        "fields": [spec.as_dict() for spec in specs.values()],
        "decoded_uplinks": generic_state.with_object,
        "uplinks_without_object": generic_state.without_object,
        "no_codec": generic_state.no_codec,
        "type_changes": dict(generic_state.type_changes),
        "fields_ignored_over_cap": generic_state.dropped,
        "decoder_warnings": list(generic_state.warnings),
        "learned_interval_s": generic_state.learned_interval_s,
    }


def described(description: EntityDescription, config: DeviceConfig) -> bool:
    """Does the device have this description's entity (its ``exists_fn``, else its field)?"""
    exists_fn: Callable[[DeviceConfig], bool] | None = getattr(description, "exists_fn", None)
    return exists_fn(config) if exists_fn is not None else description.key in config.model.fields


@callback
def async_setup_device_platform[D: EntityDescription](
    hub: GatewayHub,
    platform: str,
    *,
    descriptions: Iterable[D],
    entity: Callable[[GatewayHub, str, D], Entity],
    field_entity: Callable[[GatewayHub, str, FieldSpec], Entity],
    kinds: set[ValueKind],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A platform's entities of every device: its model's, and a generic device's fields.

    Registered with the hub, so a device added, changed or removed later gets its
    entities in place; a generic device's new fields are added when they first arrive.
    """
    descriptions = tuple(descriptions)

    def _fields(dev_eui: str, specs: Iterable[FieldSpec]) -> list[PlannedEntity]:
        return [
            PlannedEntity(field_unique_id(dev_eui, s.key), partial(field_entity, hub, dev_eui, s))
            for s in specs
        ]

    def _entities(dev_eui: str) -> list[PlannedEntity]:
        config = hub.device(dev_eui).config
        planned = [
            PlannedEntity(device_unique_id(dev_eui, d.key), partial(entity, hub, dev_eui, d))
            for d in descriptions
            if described(d, config)
        ]
        if config.is_generic:
            async_remove_stale(hub, dev_eui, platform, kinds)
            planned += _fields(dev_eui, shown_fields(hub, dev_eui, kinds))
        return planned

    hub.changes.async_register_entity_factory(platform, _entities, async_add_entities)

    def add_fields(dev_eui: str, specs: list[FieldSpec]) -> None:
        hub.changes.async_add_device_entities(platform, dev_eui, _fields(dev_eui, specs))

    async_follow_new_fields(hub, kinds, add_fields)
