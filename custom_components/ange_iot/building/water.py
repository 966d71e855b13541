"""Water meters of a building: alerts, total consumption and hourly statistics.

A building's water meters are its ``water_meter`` subentries (a meter may be heard by any
gateway; its readings come from whichever gateway owns its DevEUI). The rules are the pure
``angelib.meters`` engine; this layer feeds it every uplink of the meters (including the
hourly logs in them), calls it again at its ``next_wakeup`` (silent-meter deadline, the
night check) with ``async_track_point_in_utc_time``, stores each meter's hourly registers
and open alerts with ``Store``, and hands alert transitions to the building's event entity.

An open alert nobody acknowledged comes again as a ``reminder`` event every
``meter_reminder_interval`` (building option, default 15 min) and once as ``escalated``
after ``meter_escalation_delay`` (default off), until it is acknowledged or clears. The
engine's ``follow_up`` says what is due and counts it in the stored alert; the timer is
armed at the exact next due time, so a restart neither loses nor repeats one (after
downtime: one late reminder). This replaces the blueprint's in-automation repeats.

Hourly consumption is imported into the recorder as external statistics
(``ange_iot:water_<deveui>``), one row per hour at the hour the water ran, from the meters'
hourly logs. Rows carry absolute sums, so a log that arrives twice or late rewrites the same
rows with the same values: nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfVolume
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalType

from ..angelib import meters
from ..angelib.device import ApplyResult
from ..angelib.meters import FollowUp, FollowUpType, MeterAlert, MeterSettings, MeterState
from ..const import (
    CONF_CONTINUOUS,
    CONF_COUNTED,
    CONF_DAILY_LIMIT,
    CONF_DEV_EUI,
    CONF_HIGH_USE_FACTOR,
    CONF_METER_ESCALATION,
    CONF_METER_REMINDER,
    CONF_NIGHT_FLOW,
    CONF_SILENT_HOURS,
    CONF_WATER_NIGHT_CHECK,
    CONF_WATER_NIGHT_END,
    CONF_WATER_NIGHT_START,
    DOMAIN,
    LOGGER,
    METER_ALERT_ACKNOWLEDGED,
    METER_ALERT_CLEARED,
    METER_ALERT_ESCALATED,
    METER_ALERT_REMINDER,
    METER_ALERT_STARTED,
    SUBENTRY_DEVICE,
    SUBENTRY_WATER_METER,
)
from ..router import get_router
from ..uptime import online_since
from .part import RuntimePart, part_store
from .signals import METER_EVENT, WATER_UPDATED

WATER_SAVE_DELAY_S = 5
KEEP_HISTORY = timedelta(days=35)  # 30 days for the high-use median, plus margin


@dataclass
class MeterRuntime:
    """One water meter of the building."""

    subentry_id: str
    dev_eui: str
    name: str
    settings: MeterSettings
    counted: bool
    state: MeterState
    # The meter's sum when it started to count in the building total (None: not counted).
    counted_from: float | None = None

    @property
    def used_m3(self) -> float:
        """Consumption since the building first heard the meter, m³."""
        return used_m3(self.state)

    @property
    def statistic_id(self) -> str:
        """The meter's hourly statistic in the recorder (Energy dashboard source)."""
        return f"{DOMAIN}:water_{self.dev_eui.lower()}"


class WaterRuntime(RuntimePart):
    """Everything a building does with its water meters (items keyed by DevEUI)."""

    store_key = "water"
    save_delay = WATER_SAVE_DELAY_S
    subentry_type = SUBENTRY_WATER_METER

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """The water part of ``entry``'s building."""
        super().__init__(hass, entry)
        self.meters: dict[str, MeterRuntime] = {}  # by DevEUI
        self.retired_m3 = 0.0  # use of meters removed from the total, so it never drops
        self._no_recorder_logged = False
        # Open alerts someone took: alert id -> (who, when). Stored; dropped when cleared.
        self.acknowledged: dict[str, tuple[str, datetime]] = {}
        # What a statistic is, in the instance's language ("Vattenförbrukning"): with the
        # meter's name it tells the meters apart in the Energy dashboard's picker.
        self.statistic_kind = ""

    @property
    def event_signal(self) -> SignalType[str, dict[str, Any]]:
        """Dispatcher signal carrying meter alerts to the building's event entity."""
        return METER_EVENT.format(self.entry.entry_id)

    @property
    def signal(self) -> SignalType[()]:
        """Dispatcher signal telling the building's water entities to refresh."""
        return WATER_UPDATED.format(self.entry.entry_id)

    @property
    def defaults(self) -> MeterSettings:
        """The building's default meter settings (its options), in HA's time zone."""
        return meter_settings_from(
            self.entry.options,
            MeterSettings(timezone=str(self.hass.config.time_zone)),
            prefix_night=True,
        )

    def subentry_ids(self) -> list[str]:
        """The meters' subentries."""
        return [meter.subentry_id for meter in self.meters.values()]

    def _watched(self) -> dict[str, tuple[str, ...]]:
        return {dev_eui: (dev_eui,) for dev_eui in self.meters}

    async def _async_load(self, stored: dict[str, Any]) -> None:
        """Load stored meter states and build the meters from the subentries."""
        strings = await async_get_translations(
            self.hass, self.hass.config.language, "entity", [DOMAIN]
        )
        self.statistic_kind = strings.get(
            f"component.{DOMAIN}.entity.sensor.water_consumption.name", ""
        )
        raw: object = stored.get("meters")
        states: dict[str, Any] = raw if isinstance(raw, dict) else {}
        acks = stored.get("acknowledged")
        for alert_id, value in (acks if isinstance(acks, dict) else {}).items():
            at = dt_util.parse_datetime(value.get("at", "")) if isinstance(value, dict) else None
            if isinstance(alert_id, str) and at is not None and isinstance(value.get("by"), str):
                self.acknowledged[alert_id] = (value["by"], at)
        retired = stored.get("retired_m3")
        self.retired_m3 = float(retired) if isinstance(retired, int | float) else 0.0
        subentries = list(self._subentries().values())
        defaults = self.defaults if subentries else MeterSettings()
        for subentry in subentries:
            dev_eui = subentry.data[CONF_DEV_EUI]
            saved = states.get(dev_eui)
            if not isinstance(saved, dict):
                saved = {}
            meter = MeterRuntime(
                subentry_id=subentry.subentry_id,
                dev_eui=dev_eui,
                name=_meter_name(self.hass, dev_eui, subentry.title),
                settings=meter_settings_from(subentry.data, defaults),
                counted=bool(subentry.data.get(CONF_COUNTED, True)),
                state=MeterState.from_dict(saved.get("state")),
            )
            counted_from = saved.get("counted_from")
            if meter.counted:
                # Counted before: keep its start; newly counted: only its use from now on.
                meter.counted_from = (
                    float(counted_from)
                    if isinstance(counted_from, int | float)
                    else (meter.used_m3 if saved else 0.0)
                )
            elif isinstance(counted_from, int | float):
                self.retired_m3 += meter.used_m3 - float(counted_from)  # no longer counted
            self.meters[dev_eui] = meter
        for dev_eui, saved in states.items():
            if dev_eui in self.meters or not isinstance(saved, dict):
                continue
            # A meter removed from the building: its use so far stays in the total.
            counted_from = saved.get("counted_from")
            if isinstance(counted_from, int | float):
                gone = MeterState.from_dict(saved.get("state"))
                self.retired_m3 += used_m3(gone) - float(counted_from)

    @callback
    def async_start(self) -> None:
        """Evaluate every meter now (alerts that came due while HA was down fire once)."""
        super().async_start()
        self._save()

    # -- meters added, changed or removed: applied in place ----------------------------

    @callback
    def async_apply_subentries(self) -> list[tuple[str, str]]:
        """Make the running meters match the building's meter subentries and defaults.

        Returns the meters added, as (subentry type, subentry id), for their entities.
        """
        wanted = {subentry.data[CONF_DEV_EUI]: subentry for subentry in self._subentries().values()}
        for dev_eui, running in list(self.meters.items()):
            if (subentry := wanted.get(dev_eui)) is None or (
                subentry.subentry_id != running.subentry_id
            ):
                self._remove_meter(dev_eui)
        defaults = self.defaults if wanted else MeterSettings()
        added: list[tuple[str, str]] = []
        for dev_eui, subentry in wanted.items():
            settings = meter_settings_from(subentry.data, defaults)
            counted = bool(subentry.data.get(CONF_COUNTED, True))
            name = _meter_name(self.hass, dev_eui, subentry.title)
            meter = self.meters.get(dev_eui)
            if meter is None:
                meter = self.meters[dev_eui] = MeterRuntime(
                    subentry_id=subentry.subentry_id,
                    dev_eui=dev_eui,
                    name=name,
                    settings=settings,
                    counted=counted,
                    state=MeterState.from_dict(None),
                    counted_from=0.0 if counted else None,
                )
                self._follow(dev_eui, (dev_eui,))
                added.append((SUBENTRY_WATER_METER, subentry.subentry_id))
            elif (meter.name, meter.settings, meter.counted) != (name, settings, counted):
                meter.name, meter.settings = name, settings
                if counted and not meter.counted:  # counts in the total from now on
                    meter.counted_from = meter.used_m3
                elif meter.counted and not counted and meter.counted_from is not None:
                    self.retired_m3 += meter.used_m3 - meter.counted_from  # the total keeps it
                    meter.counted_from = None
                meter.counted = counted
            else:
                continue
            if self._started:
                self.async_evaluate(dev_eui)
            else:
                self._save()
        return added

    def _remove_meter(self, dev_eui: str) -> None:
        """A meter removed from the building: its use so far stays in the total."""
        meter = self.meters.pop(dev_eui)
        self._stop(dev_eui)
        if meter.counted_from is not None:
            self.retired_m3 += meter.used_m3 - meter.counted_from
        self._save()
        async_dispatcher_send(self.hass, self.signal)

    # -- inputs ------------------------------------------------------------------------

    def _on_device(
        self, key: str, applied: ApplyResult | None, received_at: datetime | None
    ) -> None:
        meter = self.meters.get(key)
        if meter is None:
            return
        if applied is not None and received_at is not None:
            reading = meters.reading_from_fields(applied.fields, received_at)
            result = meter.state.ingest(reading)
            if result.rejected:
                LOGGER.warning(
                    "%s: %s sent %s hourly value(s) below earlier readings; not counted",
                    self.entry.title,
                    meter.name,
                    result.rejected,
                )
            if result.changed_from is not None:
                self._import_statistics(meter, result.changed_from)
        else:
            self._check_swap_accepted(meter)
        if self._started:
            self.async_evaluate(key)
        else:
            self._save()

    def _check_swap_accepted(self, meter: MeterRuntime) -> None:
        """The meter's "accept new reading" button was pressed: continue from the new value."""
        if meter.state.backwards_since is None:
            return
        tracked = get_router(self.hass).tracked(meter.dev_eui)
        if tracked is None or tracked.state.volume_decreased:
            return
        state = meter.state
        if state.rejected_at is not None and state.rejected_m3 is not None:
            # From the first lower reading: every litre the new meter measured counts.
            state.accept_swap(state.rejected_at, state.rejected_m3)

    # -- evaluation --------------------------------------------------------------------

    @callback
    def async_evaluate(self, key: str) -> None:
        """Run the engine for one meter now; fire its transitions; re-arm its timer."""
        meter = self.meters.get(key)
        if meter is None or not self._started:
            return
        now = dt_util.utcnow()
        meter.state.series.prune(now - KEEP_HISTORY)
        evaluation = meters.evaluate(key, meter.state, meter.settings, now)
        for alert in evaluation.started:
            self._send(meter, METER_ALERT_STARTED, alert)
        for alert in evaluation.cleared:
            self.acknowledged.pop(alert.alert_id, None)
            self._send(meter, METER_ALERT_CLEARED, alert)
        due = meters.follow_up(
            meter.state,
            meter.settings,
            now,
            self.acknowledged,
            online_since=online_since(self.hass),
        )
        for follow in due.events:
            self._send_follow_up(meter, follow)
        wakeups = [t for t in (evaluation.next_wakeup, due.next_due) if t is not None]
        self._arm(key, min(wakeups, default=None))
        self._save()
        async_dispatcher_send(self.hass, self.signal)

    def _send(
        self,
        meter: MeterRuntime,
        event_type: str,
        alert: MeterAlert,
        *,
        user: str | None = None,
        at: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        owner = get_router(self.hass).owners.get(meter.dev_eui)
        device = (
            dr.async_get(self.hass).async_get_device_by_identifier(
                (DOMAIN, meter.dev_eui), owner.entry.entry_id
            )
            if owner
            else None
        )
        data = alert.as_dict()
        data.pop("dev_eui", None)  # the device id says which meter; no hardware ids in events
        data["meter"] = meter.name
        data["meter_device_id"] = device.id if device else None
        data["building"] = self.entry.title
        if user is not None and at is not None:
            data["user"] = user
            data["acknowledged_at"] = at.isoformat()
        if extra:
            data.update(extra)
        if event_type == METER_ALERT_STARTED:
            LOGGER.info("%s: %s on %s", self.entry.title, alert.type, meter.name)
        async_dispatcher_send(self.hass, self.event_signal, event_type, data)

    def _send_follow_up(self, meter: MeterRuntime, follow: FollowUp) -> None:
        """A reminder (with its count) or the escalation of an open, unacknowledged alert."""
        reminder = follow.type is FollowUpType.REMINDER
        extra: dict[str, Any] = {"late": follow.late, "due": follow.due.isoformat()}
        if reminder:
            extra["count"] = follow.count
        else:
            LOGGER.info(
                "%s: %s on %s not acknowledged in time: escalated",
                self.entry.title,
                follow.alert.type,
                meter.name,
            )
        event_type = METER_ALERT_REMINDER if reminder else METER_ALERT_ESCALATED
        self._send(meter, event_type, follow.alert, extra=extra)

    @callback
    def async_acknowledge(self, user: str, alert_id: str | None = None) -> list[str]:
        """Someone is on it: acknowledge the open alerts (or one); the ids acknowledged.

        Each gets an ``alert_acknowledged`` event with who, and a logbook line; an alert
        is acknowledged once, and the acknowledgement goes when the alert clears.
        """
        now = dt_util.utcnow()
        done: list[str] = []
        taken: set[str] = set()
        for meter, alert in self.active_alerts():
            if alert.alert_id in self.acknowledged or alert_id not in (None, alert.alert_id):
                continue
            self.acknowledged[alert.alert_id] = (user, now)
            done.append(alert.alert_id)
            taken.add(meter.dev_eui)
            self._send(meter, METER_ALERT_ACKNOWLEDGED, alert, user=user, at=now)
        for dev_eui in taken:  # no more reminders for them: re-arm the meters' timers
            self.async_evaluate(dev_eui)
        if done:
            self._save()
            async_dispatcher_send(self.hass, self.signal)
        return done

    # -- figures for the entities ------------------------------------------------------

    def active_alerts(self) -> list[tuple[MeterRuntime, MeterAlert]]:
        """Every open alert, oldest first."""
        alerts = [(m, a) for m in self.meters.values() for a in m.state.active.values()]
        return sorted(alerts, key=lambda item: (item[1].since, item[0].name, item[1].type))

    def meters_in_alert(self) -> int:
        """How many meters have at least one open alert."""
        return sum(1 for meter in self.meters.values() if meter.state.active)

    def total_m3(self) -> float | None:
        """Use of the counted meters since each was added, m³; never decreases."""
        counted = [m for m in self.meters.values() if m.counted]
        if not counted and not self.retired_m3:
            return None
        return round(self.retired_m3 + sum(m.used_m3 - (m.counted_from or 0.0) for m in counted), 3)

    # -- statistics --------------------------------------------------------------------

    def statistic_name(self, meter: MeterRuntime) -> str:
        """The meter's statistic as the Energy dashboard lists it.

        "Lgh 1101 vattenmätare (Vattenförbrukning) · Solbacken": the meter, what it is,
        and its building, so it is found by any of them in the picker's search.
        """
        kind = f" ({self.statistic_kind})" if self.statistic_kind else ""
        return f"{meter.name}{kind} · {self.entry.title}"

    def _import_statistics(self, meter: MeterRuntime, since: datetime) -> None:
        """Write the meter's hourly rows from ``since`` into the recorder (idempotent)."""
        if "recorder" not in self.hass.config.components:
            if not self._no_recorder_logged:
                self._no_recorder_logged = True
                LOGGER.warning(
                    "%s: the recorder is not running, so hourly water statistics are not kept",
                    self.entry.title,
                )
            return
        rows = meter.state.series.rows(since)
        if not rows:
            return
        metadata = StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=self.statistic_name(meter),
            source=DOMAIN,
            statistic_id=meter.statistic_id,
            unit_class="volume",
            unit_of_measurement=UnitOfVolume.CUBIC_METERS,
        )
        async_add_external_statistics(
            self.hass,
            metadata,
            [StatisticData(start=row.start, state=row.state, sum=row.sum) for row in rows],
        )

    # -- persistence -------------------------------------------------------------------

    def _snapshot(self) -> dict[str, Any]:
        return {
            "meters": {
                dev_eui: {"state": meter.state.as_dict(), "counted_from": meter.counted_from}
                for dev_eui, meter in self.meters.items()
            },
            "retired_m3": self.retired_m3,
            "acknowledged": {
                alert_id: {"by": by, "at": at.isoformat()}
                for alert_id, (by, at) in self.acknowledged.items()
            },
        }


def water_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a building keeps its meters' hourly registers and open alerts."""
    return part_store(hass, entry_id, WaterRuntime.store_key)


def meter_settings_from(
    data: Any, base: MeterSettings, *, prefix_night: bool = False
) -> MeterSettings:
    """Meter settings from building options or a meter subentry, on top of ``base``.

    Invalid stored values fall back to ``base`` (logged), never to no alerts at all.
    """
    night = (
        {
            "night_start": data.get(CONF_WATER_NIGHT_START),
            "night_end": data.get(CONF_WATER_NIGHT_END),
            "night_check": data.get(CONF_WATER_NIGHT_CHECK),
        }
        if prefix_night
        else {}
    )
    hours = data.get(CONF_SILENT_HOURS)
    limit = data.get(CONF_DAILY_LIMIT)
    values: dict[str, Any] = {
        **night,
        # Building options only (a meter's subentry has none: it follows its building).
        "reminder_interval": data.get(CONF_METER_REMINDER),
        "escalation_delay": data.get(CONF_METER_ESCALATION),
        "continuous_by_design": data.get(CONF_CONTINUOUS),
        "night_flow_lph": data.get(CONF_NIGHT_FLOW),
        "high_use_factor": data.get(CONF_HIGH_USE_FACTOR),
        "silent_after": hours * 3600 if isinstance(hours, int | float) else None,
    }
    values = {k: v for k, v in values.items() if v is not None}
    if isinstance(limit, int | float) and limit > 0:
        values["daily_limit_l"] = limit
    try:
        settings = MeterSettings.from_dict(values, base)
    except ValueError as err:
        LOGGER.error("Invalid water-meter settings (%s); using the building's defaults", err)
        return base
    if isinstance(limit, int | float) and limit <= 0:
        settings = replace(settings, daily_limit_l=None)  # 0 switches the fixed limit off
    return settings


def used_m3(state: MeterState) -> float:
    """A meter's consumption since the building first heard it (its newest row's sum)."""
    last = state.series.last_boundary
    rows = state.series.rows(last - timedelta(hours=1)) if last is not None else []
    return rows[-1].sum if rows else 0.0


def _meter_name(hass: HomeAssistant, dev_eui: str, fallback: str) -> str:
    """The meter's name in events and statistics: its sensor's title on the gateway.

    The building's meter subentry title says "Meter alerts and statistics: ..." (see the
    config flow); older ones carry the bare sensor title, which is the fallback.
    """
    for entry in hass.config_entries.async_entries(DOMAIN):
        for subentry in entry.subentries.values():
            if (
                subentry.subentry_type == SUBENTRY_DEVICE
                and subentry.data.get(CONF_DEV_EUI) == dev_eui
            ):
                return subentry.title
    return fallback
