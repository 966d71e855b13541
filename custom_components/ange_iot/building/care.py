"""The care part of a building: care checks for its apartments, on HA's clock.

A building is its own config entry (apartments are its subentries), so a building may hold
sensors heard by any gateway: sensor state comes from whichever gateway entry owns the
DevEUI (the domain-wide router). The rules are the pure ``angelib.care`` engine; this
layer feeds it activity from uplinks, calls it again at the exact ``next_wakeup`` with
``async_track_point_in_utc_time`` (no polling), persists each apartment's state with
``Store`` after every change, and turns its events into the building's event entity.
After a restart the stored state is evaluated at once: a deadline that passed while Home
Assistant was down fires once, marked late; nothing fires twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import area_registry as ar, device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalType

from ..angelib import care
from ..angelib.care import ApartmentState, CareEvent, CareSettings, Evaluation, SensorHealth
from ..angelib.device import ApplyResult
from ..angelib.followup import FollowUp
from ..const import CONF_LABEL, CONF_SENSORS, DOMAIN, LOGGER, SUBENTRY_APARTMENT
from ..router import DeviceOwner, get_router
from ..uptime import online_since
from .apartment import (
    APARTMENT_DEVICE,
    MANUFACTURER,
    ApartmentRuntime,
    apartment_identifier,
    care_index_store,
    parse_escalations,
    parse_sensors,
    raise_lost_issue,
    rejudge_today,
    settings_from,
)
from .incidents import CareIncidents, Incident
from .part import RuntimePart
from .signals import APARTMENT_UPDATED, BUILDING_UPDATED, CARE_EVENT

# Still importable from here: the config flow reads defaults with ``settings_from``.
__all__ = ["CareRuntime", "settings_from"]

CARE_SAVE_DELAY_S = 2  # short: care state must survive a crash, not only a clean stop
# A gateway quiet for less than this is never judged down (no sensor reports more often):
# the cheap test that spares the look at every sensor on each uplink.
MIN_GATEWAY_QUIET = timedelta(minutes=1)
ESCALATED = "escalated"  # event type: an armed escalation came due unacknowledged


class CareRuntime(RuntimePart):
    """A building's apartments: their care checks, alerts, escalations and incidents."""

    store_key = "care"
    save_delay = CARE_SAVE_DELAY_S
    subentry_type = SUBENTRY_APARTMENT

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """The care part of ``entry``'s building."""
        super().__init__(hass, entry)
        self.apartments: dict[str, ApartmentRuntime] = {}
        self.building_device_id = ""  # set by the building once its device exists
        # The last report time and silence limit of each sensor, as last seen through its
        # gateway: used while that gateway is not loaded (not yet at startup, or reloading).
        self.known_sensors: dict[str, SensorHealth] = {}
        # Apartments whose stored care state was lost (unreadable store): re-judged at start.
        self.lost: set[str] = set()
        self._index: Store[dict[str, Any]] | None = None
        self._indexed: frozenset[str] = frozenset()
        self._starting = False  # evaluating every apartment at start: building told once
        # Gateways judged down from their care sensors here (entry id -> the last message
        # it was judged by), and those judged down or seen back during this evaluation.
        self._quiet: dict[str, datetime] = {}
        self._gateways_changed: set[str] = set()
        self._regrouping = False
        # Each alert's course for follow-up (time to acknowledge, to resolve), kept 90 days.
        self.followup = FollowUp()
        self._incidents = CareIncidents(
            hass,
            title=entry.title,
            send=self._send,
            announce=self._announce,
            silent_gateways=self._silent_gateways,
            saved=self._save,
        )

    @property
    def incidents(self) -> dict[str, Incident]:
        """Open incidents: id -> cause, since, and the alert ids grouped in it (stored)."""
        return self._incidents.open

    @property
    def event_signal(self) -> SignalType[str, dict[str, Any]]:
        """Dispatcher signal carrying care events to the building's event entity."""
        return CARE_EVENT.format(self.entry.entry_id)

    def apartment_signal(self, subentry_id: str) -> SignalType[()]:
        """Dispatcher signal telling an apartment's entities to refresh."""
        return APARTMENT_UPDATED.format(self.entry.entry_id, subentry_id)

    @property
    def building_signal(self) -> SignalType[()]:
        """Dispatcher signal for building-wide entities (the attention counter)."""
        return BUILDING_UPDATED.format(self.entry.entry_id)

    @property
    def defaults(self) -> CareSettings:
        """The building's default settings (its options), in Home Assistant's time zone."""
        return settings_from(
            self.entry.options, CareSettings(timezone=str(self.hass.config.time_zone))
        )

    def subentry_ids(self) -> list[str]:
        """The apartments."""
        return list(self.apartments)

    def _watched(self) -> dict[str, tuple[str, ...]]:
        return {sid: apartment.sensors for sid, apartment in self.apartments.items()}

    async def _async_load(self, stored: dict[str, Any]) -> None:
        """Load stored states and build the apartments (evaluation starts later)."""
        self._index = care_index_store(self.hass, self.entry.entry_id)
        index = await self._index.async_load()
        states = stored.get("apartments")
        if not isinstance(states, dict):
            states = {}
        escalations = stored.get("escalations")
        if not isinstance(escalations, dict):
            escalations = {}
        self.known_sensors = parse_sensors(stored.get("sensors"))
        self._incidents.load(stored.get("incidents"))
        self.followup = FollowUp.from_list(stored.get("followup"))
        defaults = self.defaults
        for subentry_id, subentry in self._subentries().items():
            self.apartments[subentry_id] = ApartmentRuntime(
                subentry_id=subentry_id,
                label=subentry.data.get(CONF_LABEL) or subentry.title,
                settings=settings_from(subentry.data, defaults),
                sensors=tuple(subentry.data.get(CONF_SENSORS) or ()),
                state=ApartmentState.from_dict(states.get(subentry_id)),
                escalations=parse_escalations(escalations.get(subentry_id)),
            )
        # The index says which apartments had stored state. One that had and has none now
        # lost it (Home Assistant renames an unreadable store away and starts without it).
        had = index.get("apartments") if isinstance(index, dict) else None
        self._indexed = (
            frozenset(a for a in had if isinstance(a, str))
            if isinstance(had, list)
            else frozenset()
        )
        self.lost = {sid for sid in self.apartments if sid in self._indexed and sid not in states}

        if self.lost:
            labels = sorted(self.apartments[sid].label for sid in self.lost)
            raise_lost_issue(self.hass, self.entry.entry_id, self.entry.title, labels)

    @callback
    def async_start(self) -> None:
        """Evaluate every apartment now (entities exist and automations listen by now)."""
        self._started = True
        for subentry_id in sorted(self.lost):
            if (apartment := self.apartments.get(subentry_id)) is not None:
                rejudge_today(self.hass, self.entry.title, apartment)
        self.lost.clear()
        # The building's entities (attention count, its list) are told once, not once per
        # apartment: each telling recounts every apartment (O(n²) at start otherwise).
        self._starting = True
        try:
            super().async_start()
        finally:
            self._starting = False
            self._gateways_changed.clear()  # every apartment was judged in this pass
        async_dispatcher_send(self.hass, self.building_signal)

    async def async_shutdown(self) -> None:
        """Cancel timers and write the states before the entry finishes unloading."""
        self._incidents.flush_now()  # events of this loop turn still go out
        await super().async_shutdown()

    # -- apartments added, changed or removed: applied in place -------------------------

    @callback
    def async_apply_subentries(self) -> list[tuple[str, str]]:
        """Make the running apartments match their subentries and the defaults, in place.

        Returns the apartments added, as (subentry type, subentry id), for their entities.
        """
        defaults = self.defaults
        wanted = self._subentries()
        for subentry_id in [sid for sid in self.apartments if sid not in wanted]:
            self._remove_apartment(subentry_id)
        added: list[tuple[str, str]] = []
        for subentry_id, subentry in wanted.items():
            label = subentry.data.get(CONF_LABEL) or subentry.title
            settings = settings_from(subentry.data, defaults)
            sensors = tuple(subentry.data.get(CONF_SENSORS) or ())
            apartment = self.apartments.get(subentry_id)
            if apartment is None:
                apartment = self.apartments[subentry_id] = ApartmentRuntime(
                    subentry_id=subentry_id,
                    label=label,
                    settings=settings,
                    sensors=sensors,
                    state=ApartmentState.from_dict(None),
                )
                self._apartment_device(apartment, None)
                self._follow(subentry_id, sensors)
                added.append((SUBENTRY_APARTMENT, subentry_id))
            elif (apartment.label, apartment.settings, apartment.sensors) != (
                label,
                settings,
                sensors,
            ):
                old_label = apartment.label
                apartment.label, apartment.settings = label, settings
                if apartment.sensors != sensors:
                    apartment.sensors = sensors
                    self._follow(subentry_id, sensors)
                if old_label != label:
                    self._apartment_device(apartment, old_label)
            else:
                continue
            if self.running:
                self.async_evaluate(subentry_id)  # its stored state is kept
            else:
                self._save()
        return added

    def _apartment_device(self, apartment: ApartmentRuntime, old_label: str | None) -> None:
        """Create the apartment's device (before any alert names it), or follow a new label.

        The device is named by its role; its area says which apartment. A relabelled
        apartment's device moves to the area of the new label, unless someone put it
        elsewhere than the area of the old label (then it stays where they put it).
        """
        devices = dr.async_get(self.hass)
        identifier = (DOMAIN, apartment_identifier(apartment.subentry_id))
        device = devices.async_get_device_by_identifier(identifier, self.entry.entry_id)
        if device is None:
            devices.async_get_or_create(
                config_entry_id=self.entry.entry_id,
                config_subentry_id=apartment.subentry_id,
                identifiers={identifier},
                translation_key=APARTMENT_DEVICE,  # as its entities' device info says
                manufacturer=MANUFACTURER,
                via_device_id=self.building_device_id,
                suggested_area=apartment.label,
            )
            return
        areas = ar.async_get(self.hass)
        old_area = areas.async_get_area_by_name(old_label) if old_label else None
        if device.area_id is None or (old_area is not None and device.area_id == old_area.id):
            area = areas.async_get_or_create(apartment.label)
            devices.async_update_device(device.id, area_id=area.id)

    def _remove_apartment(self, subentry_id: str) -> None:
        del self.apartments[subentry_id]
        self._stop(subentry_id)
        self._clear_subentry(subentry_id)
        self._save()  # its state leaves the store

    # -- inputs ------------------------------------------------------------------------

    def _on_device(
        self, key: str, applied: ApplyResult | None, received_at: datetime | None
    ) -> None:
        apartment = self.apartments.get(key)
        if apartment is None:
            return
        if applied is not None and applied.activity and received_at is not None:
            care.record_activity(apartment.state, received_at, care.activity_kind(applied.fields))
        if self.running:
            self.async_evaluate(key)
        else:
            self._save()  # recorded before the first evaluation: keep it

    @callback
    def async_acknowledge(self, subentry_id: str, user: str, alert_id: str | None = None) -> bool:
        """Someone is on it; returns False when there was nothing to acknowledge."""
        apartment = self.apartments[subentry_id]
        done = care.acknowledge(apartment.state, user, dt_util.utcnow(), alert_id=alert_id)
        self.async_evaluate(subentry_id)
        return done

    @callback
    def async_pause(self, subentry_id: str, until: datetime | None) -> None:
        """Pause the checks (resident away or visited) until ``until`` or a resume."""
        apartment = self.apartments[subentry_id]
        care.pause(apartment.state, until, dt_util.utcnow())
        self.async_evaluate(subentry_id)

    @callback
    def async_resume(self, subentry_id: str) -> bool:
        """Resume paused checks; False if they were not paused."""
        apartment = self.apartments[subentry_id]
        done = care.resume(apartment.state, dt_util.utcnow())
        self.async_evaluate(subentry_id)
        return done

    @callback
    def async_arm_escalation(self, subentry_id: str, alert_id: str, delay: timedelta) -> bool:
        """Escalate ``alert_id`` after ``delay`` unless acknowledged or resolved first.

        Kept in the integration (and stored), not in a waiting automation run, so the
        escalation still happens if Home Assistant restarts meanwhile. Returns False when
        the alert is not open (already acknowledged, resolved, or unknown).
        """
        apartment = self.apartments[subentry_id]
        if not self._open_unacknowledged(apartment, alert_id):
            return False
        due = dt_util.utcnow() + delay
        current = apartment.escalations.get(alert_id)
        apartment.escalations[alert_id] = min(current, due) if current else due
        self.async_evaluate(subentry_id)
        return True

    @staticmethod
    def _open_unacknowledged(apartment: ApartmentRuntime, alert_id: str) -> bool:
        evaluation = apartment.evaluation
        return evaluation is not None and any(
            alert.id == alert_id and alert.waiting for alert in evaluation.open_alerts
        )

    def _escalate_due(self, apartment: ApartmentRuntime, now: datetime) -> datetime | None:
        """Fire due escalations of the open alert; drop those of closed alerts."""
        evaluation = apartment.evaluation
        next_due: datetime | None = None
        for alert_id, due in list(apartment.escalations.items()):
            if not self._open_unacknowledged(apartment, alert_id):
                del apartment.escalations[alert_id]
                continue
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            del apartment.escalations[alert_id]
            assert evaluation is not None
            alert = next(a for a in evaluation.open_alerts if a.id == alert_id)
            self._send(
                apartment,
                ESCALATED,
                {
                    "apartment": apartment.label,
                    "reason": alert.reason,
                    "since": alert.since.isoformat(),
                    "late": due < online_since(self.hass),
                    "id": f"{alert_id}:escalated",
                    "alert_id": alert_id,
                },
            )
        return next_due

    # -- evaluation --------------------------------------------------------------------

    @callback
    def async_evaluate(self, subentry_id: str) -> Evaluation | None:
        """Run the engine for one apartment now; fire its events; re-arm its timer."""
        apartment = self.apartments.get(subentry_id)
        if apartment is None or not self._started:
            return None
        now = dt_util.utcnow()
        evaluation = care.evaluate(
            apartment.label,
            apartment.settings,
            apartment.state,
            self._health(apartment, now),
            now,
            online_since=online_since(self.hass),
        )
        apartment.evaluation = evaluation
        for event in evaluation.events:
            self._fire(apartment, event)
        escalation = self._escalate_due(apartment, now)
        wakeups = [t for t in (evaluation.next_wakeup, escalation) if t is not None]
        self._arm(subentry_id, min(wakeups) if wakeups else None)
        self._save()
        async_dispatcher_send(self.hass, self.apartment_signal(subentry_id))
        if not self._starting:
            async_dispatcher_send(self.hass, self.building_signal)
            if self._gateways_changed and not self._regrouping:
                self._regroup(subentry_id)
        return evaluation

    def _regroup(self, judged: str) -> None:
        """A gateway was just judged down (or seen back): judge its other apartments now.

        Evaluated in this loop turn, so their "cannot tell" alerts are announced with the
        first one as one incident instead of one alert per apartment as each sensor's own
        silence limit runs out; and when it is back, each notes since when (a sensor still
        silent its own limit later becomes its own alert).
        """
        quiet, self._gateways_changed = self._gateways_changed, set()
        router = get_router(self.hass)
        self._regrouping = True
        try:
            for subentry_id, apartment in list(self.apartments.items()):
                if subentry_id != judged and any(
                    (owner := router.owners.get(dev_eui)) is not None
                    and owner.entry.entry_id in quiet
                    for dev_eui in apartment.sensors
                ):
                    self.async_evaluate(subentry_id)
        finally:
            self._regrouping = False
            self._gateways_changed.clear()

    def _gateway_down(self, owner: DeviceOwner, now: datetime) -> bool:
        """Its watchdog says so, or this building's care sensors on it say it is the cause.

        Only silence while Home Assistant was listening counts: after a restart the
        downtime is no evidence against a gateway (those alerts are late: downtime).
        """
        if owner.silent:
            return True
        if (listening := self._listening_since(owner)) is None:
            return False
        entry_id = owner.entry.entry_id
        if (judged := self._quiet.get(entry_id)) is not None:
            if judged == listening:
                return True
            del self._quiet[entry_id]  # it delivered again
            self._gateways_changed.add(entry_id)
            LOGGER.info("%s: messages come through %s again", self.entry.title, owner.entry.title)
        if now - listening < MIN_GATEWAY_QUIET or not care.gateway_quiet(
            self._sensors_on(owner), listening, now
        ):
            return False
        self._quiet[entry_id] = listening
        self._gateways_changed.add(entry_id)
        LOGGER.warning(
            "%s: nothing came through %s since %s while its sensors fell silent: the "
            "gateway is taken as down (one incident, not one alert per apartment)",
            self.entry.title,
            owner.entry.title,
            listening.isoformat(timespec="minutes"),
        )
        return True

    def _listening_since(self, owner: DeviceOwner) -> datetime | None:
        last = owner.last_message
        return None if last is None else max(last, online_since(self.hass))

    def _sensors_on(self, owner: DeviceOwner) -> list[SensorHealth]:
        """The health of this building's care sensors that ``owner`` runs."""
        router = get_router(self.hass)
        found: dict[str, SensorHealth] = {}
        for apartment in self.apartments.values():
            for dev_eui in apartment.sensors:
                if dev_eui in found or router.owners.get(dev_eui) is not owner:
                    continue
                if (tracked := owner.tracked(dev_eui)) is not None:
                    found[dev_eui] = care.sensor_health(tracked.config, tracked.state)
        return list(found.values())

    def _health(self, apartment: ApartmentRuntime, now: datetime) -> list[SensorHealth]:
        router = get_router(self.hass)
        health: list[SensorHealth] = []
        for dev_eui in apartment.sensors:
            owner = router.owners.get(dev_eui)
            tracked = owner.tracked(dev_eui) if owner is not None else None
            if owner is None or tracked is None:
                # Its gateway is not loaded (not yet after a restart, or reloading), or the
                # sensor was removed: judged by its last known report, so "cannot tell"
                # once that is older than its silence limit (at once if never known).
                known = self.known_sensors.get(dev_eui)
                health.append(
                    known or SensorHealth(key=dev_eui, last_seen=None, silence_limit=timedelta(0))
                )
                continue
            live = care.sensor_health(
                tracked.config, tracked.state, gateway_down=self._gateway_down(owner, now)
            )
            self.known_sensors[dev_eui] = replace(live, gateway_down=False)
            health.append(live)
        return health

    def _fire(self, apartment: ApartmentRuntime, event: CareEvent) -> None:
        if self._incidents.hold(apartment, event) or self._incidents.resolve(apartment, event):
            return
        if event.late:
            LOGGER.warning(
                "%s: %s for %s came due while Home Assistant was not running (since %s)",
                self.entry.title,
                event.type,
                event.apartment,
                event.since.isoformat(timespec="minutes"),
            )
        data = event.as_dict()
        self._send(apartment, data.pop("type"), data)

    def _send(self, apartment: ApartmentRuntime, event_type: str, data: dict[str, Any]) -> None:
        """Hand one care event to the building's event entity, with the apartment's device."""
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, apartment_identifier(apartment.subentry_id)), self.entry.entry_id
        )
        data["device_id"] = device.id if device else None
        if self.followup.on_event(event_type, data, dt_util.utcnow()):
            self._save()
        async_dispatcher_send(self.hass, self.event_signal, event_type, data)

    def _announce(self, event_type: str, data: dict[str, Any]) -> None:
        """A building-wide care event (an incident), on the building's device."""
        data["device_id"] = self.building_device_id or None
        async_dispatcher_send(self.hass, self.event_signal, event_type, data)

    def _silent_gateways(self) -> list[str]:
        router = get_router(self.hass)
        return sorted(
            {
                owner.entry.title
                for apartment in self.apartments.values()
                for dev_eui in apartment.sensors
                if (owner := router.owners.get(dev_eui)) is not None
                and (
                    owner.silent
                    or self._quiet.get(owner.entry.entry_id) == self._listening_since(owner)
                )
            }
        )

    def attention_count(self) -> int:
        """Apartments that need a person: a check needed, or we cannot tell."""
        return sum(
            1
            for apartment in self.apartments.values()
            if apartment.evaluation is not None
            and apartment.evaluation.status
            in (care.Status.CHECK_NEEDED, care.Status.SENSOR_OFFLINE)
        )

    def _save(self) -> None:
        super()._save()
        if self._index is not None and self._indexed != (current := frozenset(self.apartments)):
            # Which apartments have stored state: how a lost store is told from a new one.
            self._indexed = current
            self._index.async_delay_save(lambda: {"apartments": sorted(current)}, 1)

    def _snapshot(self) -> dict[str, Any]:
        watched = {key for apartment in self.apartments.values() for key in apartment.sensors}
        return {
            "followup": self.followup.as_list(),
            "incidents": self._incidents.as_dict(),
            "apartments": {
                sid: apartment.state.as_dict() for sid, apartment in self.apartments.items()
            },
            "escalations": {
                sid: {alert: due.isoformat() for alert, due in apartment.escalations.items()}
                for sid, apartment in self.apartments.items()
                if apartment.escalations
            },
            "sensors": {
                key: {
                    "last_seen": known.last_seen.isoformat() if known.last_seen else None,
                    "silence_limit": round(known.silence_limit.total_seconds()),
                }
                for key, known in self.known_sensors.items()
                if key in watched
            },
        }
