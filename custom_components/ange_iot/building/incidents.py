"""Care incidents: storms of "cannot tell" collapse by cause into one notification.

When one gateway goes silent, or Home Assistant was down, many apartments cannot tell at
once. Their alerts are held to the end of the loop turn (the other apartments of the same
cause are evaluated in that turn: one gateway signal, one start-up pass) and announced as
one ``incident``; each apartment's own event still fires, carrying ``incident_id``, so
nothing is hidden. The incident resolves when every apartment in it can tell again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..angelib import care
from ..angelib.care import CareEvent
from ..const import LOGGER

if TYPE_CHECKING:
    from .apartment import ApartmentRuntime

INCIDENT = "incident"  # several apartments cannot tell: one silent gateway, or downtime
INCIDENT_RESOLVED = "incident_resolved"  # every apartment of the incident can tell again
CAUSE_GATEWAY = "gateway_down"
CAUSE_DOWNTIME = "downtime"

type Send = Callable[[ApartmentRuntime, str, dict[str, Any]], None]  # an apartment's event
type Announce = Callable[[str, dict[str, Any]], None]  # a building-wide event


@dataclass
class Incident:
    """Apartments that cannot tell for one cause, notified once (storms collapse by cause)."""

    cause: str
    since: datetime
    alerts: dict[str, str]  # open "cannot tell" alert id -> apartment label


class CareIncidents:
    """The open incidents of a building (stored), and the alerts held this loop turn."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        title: str,
        send: Send,
        announce: Announce,
        silent_gateways: Callable[[], list[str]],
        saved: Callable[[], None],
    ) -> None:
        """Send apartment events with ``send``; incidents with ``announce``."""
        self._hass = hass
        self._title = title
        self._send = send
        self._announce = announce
        self._silent_gateways = silent_gateways
        self._saved = saved
        # Open incidents: id -> cause, since, and the alert ids grouped in it (stored).
        self.open: dict[str, Incident] = {}
        self._batch: dict[str, list[tuple[ApartmentRuntime, CareEvent]]] = {}
        self._flush: asyncio.Handle | None = None

    def hold(self, apartment: ApartmentRuntime, event: CareEvent) -> bool:
        """Hold a "cannot tell" alert of a storm's cause to the end of the loop turn."""
        cause = incident_cause(event)
        if cause is None:
            return False
        self._batch.setdefault(cause, []).append((apartment, event))
        if self._flush is None:
            self._flush = self._hass.loop.call_soon(self.flush)
        return True

    def resolve(self, apartment: ApartmentRuntime, event: CareEvent) -> bool:
        """An alert of an incident resolved: sent with its incident, which may close."""
        if event.type is not care.EventType.RESOLVED:
            return False
        incident_id = next(
            (i for i, inc in self.open.items() if event.alert_id in inc.alerts), None
        )
        if incident_id is None:
            return False
        self._send(apartment, str(event.type), event_data(event) | {"incident_id": incident_id})
        incident = self.open[incident_id]
        incident.alerts.pop(event.alert_id, None)
        if incident.alerts:
            return True
        del self.open[incident_id]
        self._announce(
            INCIDENT_RESOLVED,
            {
                "cause": incident.cause,
                "since": event.since.isoformat(),
                "late": False,
                "id": f"{incident_id}|resolved",
                "incident_id": incident_id,
            },
        )
        return True

    def flush_now(self) -> None:
        """At shutdown: the events of this loop turn still go out."""
        if self._flush is not None:
            self._flush.cancel()
            self.flush()

    @callback
    def flush(self) -> None:
        """One incident per cause for the "cannot tell" alerts of this loop turn.

        The per-apartment events still fire, each carrying ``incident_id``, so every
        apartment shows "cannot tell" and nothing is hidden; a notification blueprint
        rings once, for the incident. A single apartment is no storm: its alert fires alone.
        """
        self._flush = None
        batch, self._batch = self._batch, {}
        for cause, items in batch.items():
            if len(items) == 1:
                apartment, event = items[0]
                self._send(apartment, str(event.type), event_data(event))
                continue
            since = min(event.since for _, event in items)
            incident_id = f"incident|{cause}|{since.isoformat()}"
            incident = self.open.setdefault(
                incident_id, Incident(cause=cause, since=since, alerts={})
            )
            for apartment, event in items:
                incident.alerts[event.alert_id] = apartment.label
                self._send(
                    apartment, str(event.type), event_data(event) | {"incident_id": incident_id}
                )
            labels = sorted(set(incident.alerts.values()))
            LOGGER.warning(
                "%s: cannot tell for %s apartments (%s) since %s",
                self._title,
                len(labels),
                cause,
                since.isoformat(timespec="minutes"),
            )
            self._announce(
                INCIDENT,
                {
                    "cause": cause,
                    "apartments": labels,
                    "gateways": self._silent_gateways(),
                    "since": since.isoformat(),
                    "late": any(event.late for _, event in items),
                    "id": incident_id,
                    "incident_id": incident_id,
                },
            )
        self._saved()

    def as_dict(self) -> dict[str, Any]:
        """The open incidents, as stored."""
        return {
            incident_id: {
                "cause": incident.cause,
                "since": incident.since.isoformat(),
                "alerts": incident.alerts,
            }
            for incident_id, incident in self.open.items()
        }

    def load(self, data: object) -> None:
        """The stored open incidents (unreadable ones are dropped)."""
        self.open = {}
        if not isinstance(data, dict):
            return
        for incident_id, raw in data.items():
            if not isinstance(raw, dict) or not isinstance(incident_id, str):
                continue
            raw_since = raw.get("since")
            since = dt_util.parse_datetime(raw_since) if isinstance(raw_since, str) else None
            alerts = raw.get("alerts")
            if since is None or since.tzinfo is None or not isinstance(alerts, dict):
                continue
            self.open[incident_id] = Incident(
                cause=str(raw.get("cause")),
                since=since,
                alerts={str(k): str(v) for k, v in alerts.items()},
            )


def event_data(event: CareEvent) -> dict[str, Any]:
    """An event's data for the bus (its type is the event type)."""
    data = event.as_dict()
    del data["type"]
    return data


def incident_cause(event: CareEvent) -> str | None:
    """The cause a "cannot tell" alert is grouped under, if it is part of a storm."""
    if event.type is not care.EventType.SENSOR_OFFLINE:
        return None
    if event.reason == care.Reason.GATEWAY_DOWN:
        return CAUSE_GATEWAY
    return CAUSE_DOWNTIME if event.late else None
