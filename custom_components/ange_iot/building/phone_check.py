"""Phone check at shift start: each on-shift phone must confirm a test notification.

Optional per building (a ``phone_check`` subentry: shift start times, the phones, the
grace). At each shift start every phone gets a notification through its
``notify.mobile_app_<device name>`` action with one button; a press (the Companion app's
``mobile_app_notification_action`` event, its context naming the Home Assistant user)
confirms that phone. A phone that does not confirm within the grace, or whose notification
cannot be sent at all, fires ``phone_check_failed`` on the building's care-alerts event
entity (the care blueprint forwards it to the other phones), writes a logbook line, and
raises a repair issue that clears when that phone confirms a later check.

The rules and the stored state are ``angelib.phone_check``; this layer keeps the state in
its own ``Store`` and one timer at the next shift start or due time
(``async_track_point_in_utc_time``), because Home Assistant's ``for:``/``delay``/
``wait_for_trigger`` do not survive a restart. After a restart an open check is kept; one
that came due while Home Assistant was down fires once, marked late.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
import re
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util, slugify
from homeassistant.util.signal_type import SignalType

from ..angelib.phone_check import (
    Miss,
    OpenCheck,
    PhoneCheckSettings,
    PhoneCheckState,
    shift_label,
    shift_of,
)
from ..const import DOMAIN, EVENT_CARE_LOG, LOGGER, STORAGE_VERSION
from ..storage import DelayedSave
from ..uptime import online_since
from .runtime import BuildingRuntime

SUBENTRY_PHONE_CHECK = "phone_check"
CONF_SHIFTS = ("shift_1", "shift_2", "shift_3", "shift_4")
CONF_PHONES = "phones"
CONF_GRACE = "grace"  # minutes
PHONE_CHECK_FAILED = "phone_check_failed"  # care-alerts event type
ACTION_PREFIX = "ANGE_PHONE_CHECK_"
_ACTION = re.compile(rf"^{ACTION_PREFIX}(?P<check>[a-z0-9-]+T\d{{4}}Z)_(?P<n>\d+)$")
SAVE_DELAY_S = 2
SEND_TIMEOUT_S = 30
NOTIFY_ACTION_EVENT = "mobile_app_notification_action"

TEXTS = {
    "sv": {
        "title": "Telefonkontroll: {building}",
        "message": (
            "Passet börjar {shift}. Tryck på Bekräfta inom {grace} min så vet vi att larmen "
            "når den här telefonen."
        ),
        "button": "Bekräfta",
    },
    "en": {
        "title": "Phone check: {building}",
        "message": (
            "Shift starts {shift}. Press Confirm within {grace} min so we know alerts reach "
            "this phone."
        ),
        "button": "Confirm",
    },
}


def phone_check_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a building keeps its phone checks."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.phone_check")


async def async_setup_phone_check(
    hass: HomeAssistant, entry: ConfigEntry[Any], runtime: BuildingRuntime
) -> Callable[[], Coroutine[Any, Any, None]]:
    """Start a building's phone check (idle without a subentry); returns its unload."""
    phone_check = PhoneCheckRuntime(hass, entry, runtime.care.event_signal)
    await phone_check.async_setup()
    return phone_check.async_unload


class PhoneCheckRuntime:
    """The phone check of one building: stored state, one timer, the phones' presses."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        event_signal: SignalType[str, dict[str, Any]],
    ) -> None:
        """Bind to the building entry and its care-alerts event signal."""
        self.hass = hass
        self.entry = entry
        self.event_signal = event_signal
        self.key = f"{entry.entry_id.lower()[-8:]}-"  # check ids unique across buildings
        self.state = PhoneCheckState()
        self.settings: PhoneCheckSettings | None = None
        self._saver = DelayedSave(
            phone_check_store(hass, entry.entry_id), self.state_as_dict, SAVE_DELAY_S
        )
        self._timer: CALLBACK_TYPE | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self._started = False

    def state_as_dict(self) -> dict[str, Any]:
        """What is stored."""
        return self.state.as_dict()

    async def async_setup(self) -> None:
        """Load the stored state, listen for presses; checks start once HA has started."""
        self.state = PhoneCheckState.from_dict(await self._saver.store.async_load())
        self.settings = self._read_settings()
        if self.settings is None:
            self.state = PhoneCheckState()
        self._unsubs += [
            self.hass.bus.async_listen(NOTIFY_ACTION_EVENT, self._on_action),
            self.entry.add_update_listener(self._async_changed),
            async_at_started(self.hass, self._start),
        ]

    async def async_unload(self) -> None:
        """Stop the timer and listeners, write the state (issues come back at start)."""
        self._started = False
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._timer is not None:
            self._timer()
            self._timer = None
        for phone in self.state.failing:
            self._delete_issue(phone)
        await self._saver.async_save_now()

    @callback
    def _start(self, _hass: HomeAssistant) -> None:
        """Home Assistant runs (or the building reloaded): expire late checks, arm the timer."""
        self._started = True
        for phone in list(self.state.failing):
            self._raise_issue(phone)
        self._advance()

    def _read_settings(self) -> PhoneCheckSettings | None:
        for subentry in self.entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_PHONE_CHECK:
                continue
            try:
                return PhoneCheckSettings.from_form(
                    subentry.data,
                    timezone=str(self.hass.config.time_zone),
                    shift_keys=CONF_SHIFTS,
                )
            except ValueError as err:
                LOGGER.error("%s: phone check settings not usable: %s", self.entry.title, err)
        return None

    async def _async_changed(self, _hass: HomeAssistant, _entry: ConfigEntry[Any]) -> None:
        """The building's subentries changed: apply the phone check's in place."""
        had = self.settings
        self.settings = self._read_settings()
        if self.settings == had:
            return
        if self.settings is None:  # the phone check was removed: it stops, forgets all
            for phone in list(self.state.failing):
                self._delete_issue(phone)
            self.state = PhoneCheckState()
        else:
            if had is None:  # added: from now on, no check of a shift that already began
                self.state = PhoneCheckState(watching_since=dt_util.utcnow())
            for phone in [p for p in self.state.failing if p not in self.settings.phones]:
                self._delete_issue(phone)
            self.state.forget_phones(self.settings.phones)
        self._saver.schedule()
        if self._started:
            self._advance()

    # -- the clock -------------------------------------------------------------------------

    @callback
    def _advance(self) -> None:
        """Everything due now: misses of expired checks, the shift start's check."""
        now = dt_util.utcnow()
        misses, started = self.state.advance(
            self.settings, now, key=self.key, online_since=online_since(self.hass)
        )
        for miss in misses:
            self._report(miss)
        for check in started:
            self.entry.async_create_task(
                self.hass, self._async_send(check), f"{DOMAIN} phone check {check.check_id}"
            )
        if misses or started:
            self._saver.schedule()
        self._arm(now)

    def _arm(self, now: datetime) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None
        if (when := self.state.next_wakeup(self.settings, now)) is None:
            return

        @callback
        def _due(_now: datetime) -> None:
            self._timer = None
            self._advance()

        self._timer = async_track_point_in_utc_time(self.hass, _due, when)

    # -- the phones ------------------------------------------------------------------------

    def _device(self, phone: str) -> dr.DeviceEntry | dr.ChildDeviceEntry | None:
        return dr.async_get(self.hass).async_get(phone)

    def _phone_name(self, phone: str) -> str:
        device = self._device(phone)
        return (device.name_by_user or device.name or phone) if device else phone

    def _language(self) -> str:
        language = (self.hass.config.language or "en").split("-")[0]
        return language if language in TEXTS else "en"

    async def _async_notify(self, phone: str, message: str, data: dict[str, Any]) -> bool:
        """One notification to one phone through its mobile_app action; False if it failed."""
        device = self._device(phone)
        if device is None or not device.name:
            return False
        service = f"mobile_app_{slugify(device.name)}"
        if not self.hass.services.has_service("notify", service):
            LOGGER.warning("%s: no notify.%s for the phone check", self.entry.title, service)
            return False
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await self.hass.services.async_call(
                    "notify", service, {"message": message, **data}, blocking=True
                )
        except (HomeAssistantError, TimeoutError) as err:
            LOGGER.warning("%s: phone check to %s failed: %s", self.entry.title, service, err)
            return False
        return True

    async def _async_send(self, check: OpenCheck) -> None:
        """The check's notification to every phone; a phone it cannot reach is missed now."""
        texts = TEXTS[self._language()]
        timezone = str(self.hass.config.time_zone)
        grace = round((check.due - max(check.shift, check.started)).total_seconds() / 60)
        title = texts["title"].format(building=self.entry.title)
        message = texts["message"].format(shift=shift_label(check.shift, timezone), grace=grace)

        def data(n: int) -> dict[str, Any]:
            return {
                "title": title,
                "data": {
                    "tag": _tag(check.check_id),
                    "group": "ange-phone-check",
                    "actions": [
                        {"action": f"{ACTION_PREFIX}{check.check_id}_{n}", "title": texts["button"]}
                    ],
                    "priority": "high",
                    "ttl": 0,
                    "push": {"interruption-level": "time-sensitive"},
                },
            }

        sent = await asyncio.gather(
            *(
                self._async_notify(status.phone, message, data(n))
                for n, status in enumerate(check.phones)
            )
        )
        for status, ok in zip(check.phones, sent, strict=True):
            if not ok and (miss := self.state.unreachable(check.check_id, status.phone)):
                self._report(miss)
                self._saver.schedule()

    @callback
    def _on_action(self, event: Event) -> None:
        """A press on a notification button: ours confirms that phone for that check."""
        action = event.data.get("action")
        match = _ACTION.match(action) if isinstance(action, str) else None
        if match is None or not match["check"].startswith(self.key):
            return
        check_id, n = match["check"], int(match["n"])
        was_failing = set(self.state.failing)
        phone = self.state.confirm(check_id, n, dt_util.utcnow(), event.context.user_id)
        if phone is None:
            return
        self._saver.schedule()
        if phone in was_failing:
            self._delete_issue(phone)
        self.entry.async_create_task(
            self.hass,
            self._async_confirmed(check_id, phone, event.context.user_id),
            f"{DOMAIN} phone check confirmed {check_id}",
        )

    async def _async_confirmed(self, check_id: str, phone: str, user_id: str | None) -> None:
        """Log who confirmed, and take the notification off that phone."""
        user = await self.hass.auth.async_get_user(user_id) if user_id else None
        self._log("phone_check_confirmed", phone, check_id, user=user.name if user else None)
        await self._async_notify(phone, "clear_notification", {"data": {"tag": _tag(check_id)}})

    # -- reporting -------------------------------------------------------------------------

    def _report(self, miss: Miss) -> None:
        """A broken alert chain: the care-alerts event, a logbook line, a repair issue."""
        name = self._phone_name(miss.phone)
        shift = shift_label(miss.shift, str(self.hass.config.time_zone))
        if miss.late:
            LOGGER.warning(
                "%s: phone check %s of %s came due while Home Assistant was not running",
                self.entry.title,
                shift,
                name,
            )
        async_dispatcher_send(
            self.hass,
            self.event_signal,
            PHONE_CHECK_FAILED,
            {
                "id": f"{miss.check_id}|{miss.phone}",  # each event its own (blueprints)
                "phone": name,
                "phone_device_id": miss.phone,
                "shift": shift,
                "check_id": miss.check_id,
                "reason": str(miss.reason),
                "since": miss.shift.isoformat(),
                "late": miss.late,
            },
        )
        action = "phone_check_unreachable" if miss.reason == "not_reachable" else PHONE_CHECK_FAILED
        self._log(action, miss.phone, miss.check_id, late=miss.late)
        self._raise_issue(miss.phone)

    def _log(
        self,
        action: str,
        phone: str,
        check_id: str,
        *,
        user: str | None = None,
        late: bool = False,
    ) -> None:
        shift = shift_of(check_id)
        self.hass.bus.async_fire(
            EVENT_CARE_LOG,
            {
                "action": action,
                "phone": self._phone_name(phone),
                "building": self.entry.title,
                "shift": shift_label(shift, str(self.hass.config.time_zone)) if shift else "",
                "user": user or "?",
                "late": late,
                "entity_id": er.async_get(self.hass).async_get_entity_id(
                    "event", DOMAIN, f"{self.entry.entry_id}_care_alerts"
                ),
            },
        )

    def _issue_id(self, phone: str) -> str:
        return f"phone_check_failed_{self.entry.entry_id}_{phone}"

    def _raise_issue(self, phone: str) -> None:
        check_id = self.state.failing.get(phone)
        shift = shift_of(check_id) if check_id else None
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(phone),
            is_fixable=False,
            is_persistent=False,  # raised again at start from the stored state
            severity=ir.IssueSeverity.ERROR,
            translation_key="phone_check_failed",
            translation_placeholders={
                "phone": self._phone_name(phone),
                "building": self.entry.title,
                "shift": shift_label(shift, str(self.hass.config.time_zone)) if shift else "?",
            },
        )

    def _delete_issue(self, phone: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(phone))


def _tag(check_id: str) -> str:
    """One notification per check: a later one with the tag replaces or clears it."""
    return f"ange-phone-check-{check_id}"
