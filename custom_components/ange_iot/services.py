"""Services of Ånge IoT."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    Context,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .angelib import followup
from .angelib.simulator import DEMO_BY_EUI, Scenario
from .angelib.uplink import MessageError, normalise_dev_eui
from .building.entity import entity_of_device
from .building.runtime import BuildingRuntime
from .const import (
    ATTR_ACTIVE,
    ATTR_ALERT_ID,
    ATTR_APARTMENT,
    ATTR_BUILDING,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DELAY,
    ATTR_DEVICE,
    ATTR_END,
    ATTR_SCENARIO,
    ATTR_START,
    ATTR_TARGET,
    ATTR_UNTIL,
    ATTR_USER_ID,
    CONF_LABEL,
    DOMAIN,
    EVENT_CARE_LOG,
    SERVICE_ACKNOWLEDGE,
    SERVICE_ACKNOWLEDGE_METER,
    SERVICE_ARM_ESCALATION,
    SERVICE_CARE_FOLLOWUP,
    SERVICE_PAUSE,
    SERVICE_RESUME,
    SERVICE_SET_SCENARIO,
)
from .entries import AngeConfigEntry
from .gateway.simulated import SimulatedGateway

# Voluptuous, as everywhere in this project; typed Any because HA 2026.10 annotates
# service schemas as probatio's while accepting voluptuous (see config_flow.flow_schema).
SET_SCENARIO_SCHEMA: Any = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_SCENARIO): vol.In([s.value for s in Scenario]),
        # The UI picks a device (an apartment, a sensor, a meter); ``target`` (a label or a
        # DevEUI) stays for automations and scripts.
        vol.Optional(ATTR_DEVICE): cv.string,
        vol.Optional(ATTR_TARGET, default=""): cv.string,
        vol.Optional(ATTR_ACTIVE, default=True): cv.boolean,
    }
)


def _get_entry(hass: HomeAssistant, entry_id: str) -> AngeConfigEntry:
    entry: AngeConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


def _scenario_target(hass: HomeAssistant, scenario: Scenario, device_id: str) -> str:
    """The simulator's target for a picked device: an apartment's label or a DevEUI.

    An apartment stands for its resident; a sensor stands for itself (silent) or, for
    "resident does not get up", for the demo apartment it is in.
    """
    device = dr.async_get(hass).async_get(device_id)
    for domain, identifier in device.identifiers if device else ():
        if domain != DOMAIN:
            continue
        if identifier.startswith("apartment_"):
            subentry_id = identifier.removeprefix("apartment_")
            for entry in hass.config_entries.async_entries(DOMAIN):
                if (subentry := entry.subentries.get(subentry_id)) is not None:
                    return str(subentry.data.get(CONF_LABEL) or subentry.title)
            return identifier
        if (demo := DEMO_BY_EUI.get(identifier)) is not None:
            return demo.area if scenario is Scenario.RESIDENT_NOT_UP and demo.area else identifier
        return identifier
    return device_id


async def _async_set_scenario(call: ServiceCall) -> None:
    entry = _get_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    gateway = getattr(entry.runtime_data, "gateway", None)  # a building has none
    if not isinstance(gateway, SimulatedGateway):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_simulated",
            translation_placeholders={"title": entry.title},
        )
    scenario = Scenario(call.data[ATTR_SCENARIO])
    target: str = call.data[ATTR_TARGET]
    if device_id := call.data.get(ATTR_DEVICE):
        target = _scenario_target(call.hass, scenario, device_id)
    if scenario in (Scenario.SENSOR_SILENT, Scenario.LEAK):
        # A DevEUI as shown on the device page (the upper-case serial number) works too.
        with suppress(MessageError):
            target = normalise_dev_eui(target)
    try:
        gateway.async_set_scenario(scenario, call.data[ATTR_ACTIVE], target)
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="bad_scenario_target",
            translation_placeholders={
                "scenario": scenario.value,
                "target": target,
                "error": str(err),
            },
        ) from err


APARTMENT_SCHEMA: Any = vol.Schema({vol.Required(ATTR_APARTMENT): cv.string})
ACKNOWLEDGE_SCHEMA: Any = APARTMENT_SCHEMA.extend(
    {
        vol.Optional(ATTR_ALERT_ID): cv.string,
        # Who pressed a notification's button: an automation's call carries no user.
        vol.Optional(ATTR_USER_ID): vol.Any(None, cv.string),
    }
)
PAUSE_SCHEMA: Any = APARTMENT_SCHEMA.extend({vol.Optional(ATTR_UNTIL): cv.datetime})
ESCALATION_SCHEMA: Any = APARTMENT_SCHEMA.extend(
    {
        vol.Required(ATTR_ALERT_ID): cv.string,
        vol.Required(ATTR_DELAY): vol.All(
            cv.time_period, vol.Range(min=timedelta(minutes=1), max=timedelta(hours=24))
        ),
    }
)


def _apartment(hass: HomeAssistant, device_id: str) -> tuple[BuildingRuntime, str]:
    """The building runtime and apartment subentry of an apartment device id."""
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        for domain, identifier in device.identifiers:
            if domain != DOMAIN or not identifier.startswith("apartment_"):
                continue
            subentry_id = identifier.removeprefix("apartment_")
            # Running, not only "loaded": alerts fired while the building is being set up
            # (late ones, after a restart) trigger automations that call these services.
            for entry in hass.config_entries.async_entries(DOMAIN):
                runtime = getattr(entry, "runtime_data", None)
                if (
                    isinstance(runtime, BuildingRuntime)
                    and runtime.running
                    and subentry_id in runtime.apartments
                ):
                    return runtime, subentry_id
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="apartment_not_found",
        translation_placeholders={"device_id": device_id},
    )


async def _user_name(call: ServiceCall, user_id: str | None = None) -> str:
    """Who called: the Home Assistant user's name (staff, never a resident)."""
    if (user_id := call.context.user_id or user_id) and (
        user := await call.hass.auth.async_get_user(user_id)
    ):
        return user.name or user.id
    return "automation"


def _log(
    call: ServiceCall,
    runtime: BuildingRuntime,
    subentry_id: str,
    action: str,
    *,
    user_id: str | None = None,
    **extra: Any,
) -> None:
    """An acknowledgement or pause in the logbook, with who did it (the call's context).

    An automation acting for a user (``user_id``: who pressed a notification's button)
    logs in a child context of its own that names that user.
    """
    context = call.context
    if user_id and not context.user_id:
        context = Context(user_id=user_id, parent_id=context.id)
    device = dr.async_get(call.hass).async_get_device_by_identifier(
        (DOMAIN, f"apartment_{subentry_id}"), runtime.entry.entry_id
    )
    device_id = device.id if device else None
    call.hass.bus.async_fire(
        EVENT_CARE_LOG,
        {
            "apartment": runtime.apartments[subentry_id].label,
            "building": runtime.entry.title,
            "action": action,
            **extra,
            # In the apartment's own logbook (filtered by its device or care status).
            "device_id": device_id,
            "entity_id": entity_of_device(call.hass, device_id, "care_status"),
        },
        context=context,
    )


async def _async_acknowledge(call: ServiceCall) -> None:
    runtime, subentry_id = _apartment(call.hass, call.data[ATTR_APARTMENT])
    user_id = call.data.get(ATTR_USER_ID) or None
    if user_id and await call.hass.auth.async_get_user(user_id) is None:
        user_id = None  # never let a bad name stop an acknowledgement
    user = await _user_name(call, user_id)
    if runtime.async_acknowledge(subentry_id, user, call.data.get(ATTR_ALERT_ID)):
        _log(call, runtime, subentry_id, "acknowledged", user_id=user_id, user=user)


async def _async_pause(call: ServiceCall) -> None:
    runtime, subentry_id = _apartment(call.hass, call.data[ATTR_APARTMENT])
    until = call.data.get(ATTR_UNTIL)
    if until is not None:
        until = dt_util.as_utc(
            until if until.tzinfo else until.replace(tzinfo=dt_util.get_default_time_zone())
        )
        if until <= dt_util.utcnow():
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="pause_in_past",
                translation_placeholders={"until": until.isoformat(timespec="minutes")},
            )
    runtime.async_pause(subentry_id, until)
    _log(
        call, runtime, subentry_id, "paused",
        user=await _user_name(call), until=until.isoformat() if until else None,
    )  # fmt: skip


async def _async_resume(call: ServiceCall) -> None:
    runtime, subentry_id = _apartment(call.hass, call.data[ATTR_APARTMENT])
    if runtime.async_resume(subentry_id):
        _log(call, runtime, subentry_id, "resumed", user=await _user_name(call))


async def _async_arm_escalation(call: ServiceCall) -> None:
    runtime, subentry_id = _apartment(call.hass, call.data[ATTR_APARTMENT])
    runtime.async_arm_escalation(subentry_id, call.data[ATTR_ALERT_ID], call.data[ATTR_DELAY])


ACKNOWLEDGE_METER_SCHEMA: Any = vol.Schema(
    {
        vol.Required(ATTR_BUILDING): cv.string,
        vol.Optional(ATTR_ALERT_ID): cv.string,
        vol.Optional(ATTR_USER_ID): cv.string,
    }
)


async def _async_acknowledge_meter(call: ServiceCall) -> None:
    """Someone is on a building's open meter alerts (or one of them): recorded with who."""
    runtime = _building(call.hass, call.data[ATTR_BUILDING])
    user_id = call.data.get(ATTR_USER_ID) or None
    if user_id and await call.hass.auth.async_get_user(user_id) is None:
        user_id = None  # never let a bad name stop an acknowledgement
    runtime.water.async_acknowledge(
        await _user_name(call, user_id), call.data.get(ATTR_ALERT_ID) or None
    )


def _building(hass: HomeAssistant, entry_id: str) -> BuildingRuntime:
    entry = hass.config_entries.async_get_entry(entry_id)
    runtime = getattr(entry, "runtime_data", None) if entry is not None else None
    if not isinstance(runtime, BuildingRuntime):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="building_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    return runtime


FOLLOWUP_SCHEMA: Any = vol.Schema(
    {
        vol.Required(ATTR_BUILDING): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
    }
)


async def _async_care_followup(call: ServiceCall) -> ServiceResponse:
    """Each alert of a building in a period: when raised, acknowledged (by whom), resolved.

    For incident follow-up: no motion detail, no resident names (apartment labels only).
    The period defaults to the last 30 days; records are kept 90 days.
    """
    runtime = _building(call.hass, call.data[ATTR_BUILDING])
    end = _aware(call.data.get(ATTR_END)) or dt_util.utcnow()
    start = _aware(call.data.get(ATTR_START)) or end - timedelta(days=30)
    records = runtime.followup.between(start, end)
    return {
        "building": runtime.entry.title,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "summary": followup.summary(records),
        "alerts": [record.as_dict() for record in records],
    }


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    zone = dt_util.get_default_time_zone()
    return dt_util.as_utc(value if value.tzinfo else value.replace(tzinfo=zone))


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services (once, in ``async_setup``)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_ACKNOWLEDGE_METER,
        _async_acknowledge_meter,
        schema=ACKNOWLEDGE_METER_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CARE_FOLLOWUP,
        _async_care_followup,
        schema=FOLLOWUP_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_SCENARIO, _async_set_scenario, schema=SET_SCENARIO_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_ACKNOWLEDGE, _async_acknowledge, schema=ACKNOWLEDGE_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_PAUSE, _async_pause, schema=PAUSE_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_RESUME, _async_resume, schema=APARTMENT_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_ARM_ESCALATION, _async_arm_escalation, schema=ESCALATION_SCHEMA
    )
