"""Follow-up of alerts: when each was raised, acknowledged and resolved, by whom, how.

Swedish incident follow-up (Lex Sarah, IVO) needs time-to-acknowledge and time-to-resolve
per alert, not motion detail. One record per alert: its id, apartment label, kind, reason,
since, acknowledged at/by, resolved at/how. Records older than ``KEEP`` are dropped. Pure:
the Home Assistant layer feeds it the care events and stores ``as_list``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from .values import parse_when

KEEP = timedelta(days=90)  # how long a record is kept
OPENING = frozenset({"check_needed", "sensor_offline"})


@dataclass(slots=True, kw_only=True)
class Record:
    """One alert's course."""

    alert_id: str
    apartment: str  # a label such as "Lgh 1101", never a name
    kind: str  # check_needed or sensor_offline
    reason: str
    since: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None  # a Home Assistant user's name
    resolved_at: datetime | None = None
    resolution: str | None = None
    escalated: bool = False
    late: bool = False

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        """From the alert to the first acknowledgement."""
        return self.acknowledged_at - self.since if self.acknowledged_at else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        """From the alert to its clearing."""
        return self.resolved_at - self.since if self.resolved_at else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, with the two durations in minutes."""
        out = asdict(self)
        for key in ("since", "acknowledged_at", "resolved_at"):
            out[key] = out[key].isoformat() if out[key] else None
        ack, res = self.time_to_acknowledge, self.time_to_resolve
        out["minutes_to_acknowledge"] = round(ack.total_seconds() / 60, 1) if ack else None
        out["minutes_to_resolve"] = round(res.total_seconds() / 60, 1) if res else None
        return out

    @classmethod
    def from_dict(cls, data: object) -> Record | None:
        """Rebuild a stored record; None for anything unusable."""
        if not isinstance(data, Mapping):
            return None
        since = parse_when(data.get("since"))
        texts = [data.get(k) for k in ("alert_id", "apartment", "kind", "reason")]
        if since is None or not all(isinstance(t, str) for t in texts):
            return None
        by, how = data.get("acknowledged_by"), data.get("resolution")
        return cls(
            alert_id=str(data["alert_id"]),
            apartment=str(data["apartment"]),
            kind=str(data["kind"]),
            reason=str(data["reason"]),
            since=since,
            acknowledged_at=parse_when(data.get("acknowledged_at")),
            acknowledged_by=by if isinstance(by, str) else None,
            resolved_at=parse_when(data.get("resolved_at")),
            resolution=how if isinstance(how, str) else None,
            escalated=data.get("escalated") is True,
            late=data.get("late") is True,
        )


class FollowUp:
    """The records of one building, in the order the alerts came."""

    def __init__(self, records: Iterable[Record] = ()) -> None:
        """Start with stored records."""
        self.records: dict[str, Record] = {r.alert_id: r for r in records}

    def on_event(self, event_type: str, data: Mapping[str, Any], now: datetime) -> bool:
        """Note one care event; True when a record changed (worth saving)."""
        alert_id = data.get("alert_id")
        if not isinstance(alert_id, str):
            return False
        record = self.records.get(alert_id)
        if event_type in OPENING:
            if record is not None:
                return False
            since = parse_when(data.get("since")) or now
            self.records[alert_id] = Record(
                alert_id=alert_id,
                apartment=str(data.get("apartment", "")),
                kind=event_type,
                reason=str(data.get("reason", "")),
                since=since,
                late=data.get("late") is True,
            )
            self._prune(now)
            return True
        if record is None:
            return False
        if event_type == "acknowledged" and record.acknowledged_at is None:
            record.acknowledged_at = parse_when(data.get("since")) or now
            user = data.get("user")
            record.acknowledged_by = user if isinstance(user, str) else None
            return True
        if event_type == "resolved" and record.resolved_at is None:
            record.resolved_at = parse_when(data.get("since")) or now
            how = data.get("resolution")
            record.resolution = how if isinstance(how, str) else None
            return True
        if event_type == "escalated" and not record.escalated:
            record.escalated = True
            return True
        return False

    def between(self, start: datetime, end: datetime) -> list[Record]:
        """The alerts raised in ``[start, end)``, oldest first."""
        return sorted(
            (r for r in self.records.values() if start <= r.since < end), key=lambda r: r.since
        )

    def _prune(self, now: datetime) -> None:
        for alert_id in [a for a, r in self.records.items() if now - r.since > KEEP]:
            del self.records[alert_id]

    def as_list(self) -> list[dict[str, Any]]:
        """For ``Store``."""
        return [
            {k: v for k, v in r.as_dict().items() if not k.startswith("minutes_")}
            for r in self.records.values()
        ]

    @classmethod
    def from_list(cls, data: object) -> FollowUp:
        """Rebuild stored records (unusable ones are skipped)."""
        items = data if isinstance(data, list) else []
        return cls(r for r in (Record.from_dict(item) for item in items) if r is not None)


def summary(records: Iterable[Record]) -> dict[str, Any]:
    """Counts and median times, in minutes (None where nothing was measured)."""
    records = list(records)
    acks = [r.time_to_acknowledge.total_seconds() / 60 for r in records if r.time_to_acknowledge]
    res = [r.time_to_resolve.total_seconds() / 60 for r in records if r.time_to_resolve]
    return {
        "alerts": len(records),
        "acknowledged": len(acks),
        "resolved": len(res),
        "escalated": sum(r.escalated for r in records),
        "median_minutes_to_acknowledge": round(median(acks), 1) if acks else None,
        "median_minutes_to_resolve": round(median(res), 1) if res else None,
    }
