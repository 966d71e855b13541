"""Follow-up records: time to acknowledge and to resolve per alert, kept 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

from custom_components.ange_iot.angelib.followup import KEEP, FollowUp, summary

T0 = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)


def event(kind: str, at: datetime, alert: str = "a1", **more: object) -> dict[str, object]:
    return {"alert_id": alert, "apartment": "Lgh 1102", "reason": "no_morning_activity",
            "since": at.isoformat(), "late": False, **more}  # fmt: skip


def test_one_alert_through_its_course() -> None:
    follow = FollowUp()
    assert follow.on_event("check_needed", event("check_needed", T0), T0)
    assert not follow.on_event("check_needed", event("check_needed", T0), T0)  # once
    follow.on_event("escalated", event("escalated", T0 + timedelta(minutes=10)), T0)
    ack = T0 + timedelta(minutes=12)
    assert follow.on_event("acknowledged", event("acknowledged", ack, user="Anna"), ack)
    done = T0 + timedelta(minutes=40)
    follow.on_event("resolved", event("resolved", done, resolution="activity"), done)
    (record,) = follow.between(T0, T0 + timedelta(days=1))
    assert (record.acknowledged_by, record.resolution, record.escalated) == (
        "Anna",
        "activity",
        True,
    )
    assert record.as_dict()["minutes_to_acknowledge"] == 12.0
    assert record.as_dict()["minutes_to_resolve"] == 40.0
    assert summary([record]) == {
        "alerts": 1,
        "acknowledged": 1,
        "resolved": 1,
        "escalated": 1,
        "median_minutes_to_acknowledge": 12.0,
        "median_minutes_to_resolve": 40.0,
    }


def test_events_of_unknown_alerts_and_reminders_change_nothing() -> None:
    follow = FollowUp()
    assert not follow.on_event("acknowledged", event("acknowledged", T0), T0)
    assert not follow.on_event("reminder", event("reminder", T0), T0)
    assert not follow.on_event("check_needed", {"since": T0.isoformat()}, T0)
    assert follow.records == {}


def test_kept_90_days_and_across_a_restart() -> None:
    follow = FollowUp()
    follow.on_event("check_needed", event("check_needed", T0, "old"), T0)
    later = T0 + KEEP + timedelta(days=1)
    follow.on_event("check_needed", event("check_needed", later, "new"), later)
    assert list(follow.records) == ["new"]
    again = FollowUp.from_list(json.loads(json.dumps(follow.as_list())))
    assert [r.alert_id for r in again.between(later, later + timedelta(seconds=1))] == ["new"]
    assert FollowUp.from_list([{"alert_id": 1}, "x", None]).records == {}
    assert summary([])["median_minutes_to_acknowledge"] is None
