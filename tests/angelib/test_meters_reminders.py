"""Reminders and escalation of open meter alerts (``follow_up``), across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

from hypothesis import given, strategies as st

from custom_components.ange_iot.angelib.meters import (
    AlertType,
    FollowUp,
    FollowUpType,
    MeterAlert,
    MeterReading,
    MeterSettings,
    MeterState,
    evaluate,
    follow_up,
)

EUI = "0001a8f000002101"
T0 = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
MIN = timedelta(minutes=1)
DEFAULTS = MeterSettings()
ESCALATING = MeterSettings(escalation_delay=40 * MIN)


def leak_state(raised: datetime = T0) -> tuple[MeterState, MeterAlert]:
    """A meter with an open leak alert raised at ``raised`` (by ``evaluate``)."""
    state = MeterState()
    state.ingest(
        MeterReading(
            received_at=raised,
            volume_m3=1.0,
            volume_at=raised,
            log=(),
            alarms={AlertType.LEAK: True},
        )
    )
    started = evaluate(EUI, state, DEFAULTS, raised).started
    assert [a.type for a in started] == [AlertType.LEAK]
    assert started[0].raised_at == raised
    return state, started[0]


def restart(state: MeterState) -> MeterState:
    """Stored as JSON and read back, as across a restart."""
    return MeterState.from_dict(json.loads(json.dumps(state.as_dict())))


def sent(events: list[FollowUp]) -> list[tuple[FollowUpType, int | None, bool]]:
    return [(e.type, e.count, e.late) for e in events]


def test_reminders_every_interval_until_acknowledged() -> None:
    state, alert = leak_state()
    assert follow_up(state, DEFAULTS, T0).events == []
    assert follow_up(state, DEFAULTS, T0).next_due == T0 + 15 * MIN
    assert follow_up(state, DEFAULTS, T0 + 14 * MIN).events == []
    first = follow_up(state, DEFAULTS, T0 + 15 * MIN)
    assert sent(first.events) == [(FollowUpType.REMINDER, 1, False)]
    assert first.events[0].due == T0 + 15 * MIN
    assert first.events[0].alert.alert_id == alert.alert_id
    assert first.next_due == T0 + 30 * MIN
    # Asked again at the same time (another uplink, a re-evaluation): nothing twice.
    assert follow_up(state, DEFAULTS, T0 + 16 * MIN).events == []
    assert sent(follow_up(state, DEFAULTS, T0 + 30 * MIN).events) == [
        (FollowUpType.REMINDER, 2, False)
    ]
    # Acknowledged: no more reminders, nothing to wake up for.
    acked = follow_up(state, DEFAULTS, T0 + 2 * 60 * MIN, {alert.alert_id})
    assert (acked.events, acked.next_due) == ([], None)


def test_a_restart_neither_loses_nor_doubles_a_reminder() -> None:
    state, _ = leak_state()
    follow_up(state, DEFAULTS, T0 + 20 * MIN)  # reminder 1 sent, then a restart
    state = restart(state)
    assert state.active[AlertType.LEAK].reminders == 1
    assert state.active[AlertType.LEAK].raised_at == T0
    back = follow_up(state, DEFAULTS, T0 + 21 * MIN, online_since=T0 + 21 * MIN)
    assert back.events == []
    assert back.next_due == T0 + 30 * MIN  # not lost: still due on time
    assert sent(follow_up(state, DEFAULTS, T0 + 30 * MIN, online_since=T0 + 21 * MIN).events) == [
        (FollowUpType.REMINDER, 2, False)
    ]


def test_after_downtime_one_late_reminder_not_a_burst() -> None:
    state, _ = leak_state()
    follow_up(state, DEFAULTS, T0 + 15 * MIN)
    state = restart(state)
    up = T0 + 130 * MIN  # down from 0:20 to 2:10: six reminders missed
    result = follow_up(state, DEFAULTS, up, online_since=up)
    assert sent(result.events) == [(FollowUpType.REMINDER, 8, True)]
    assert result.events[0].due == T0 + 120 * MIN
    assert result.next_due == T0 + 135 * MIN
    assert follow_up(state, DEFAULTS, up, online_since=up).events == []


def test_a_cleared_alert_stops_reminding() -> None:
    state, _ = leak_state()
    follow_up(state, DEFAULTS, T0 + 15 * MIN)
    state.ingest(
        MeterReading(
            received_at=T0 + 20 * MIN,
            volume_m3=1.0,
            volume_at=T0 + 20 * MIN,
            log=(),
            alarms={AlertType.LEAK: False},
        )
    )
    assert [a.type for a in evaluate(EUI, state, DEFAULTS, T0 + 20 * MIN).cleared] == [
        AlertType.LEAK
    ]
    result = follow_up(state, DEFAULTS, T0 + 60 * MIN)
    assert (result.events, result.next_due) == ([], None)


def test_no_reminders_when_off() -> None:
    state, _ = leak_state()
    off = MeterSettings(reminder_interval=timedelta(0))
    result = follow_up(state, off, T0 + 24 * 60 * MIN)
    assert (result.events, result.next_due) == ([], None)


def test_escalation_once_and_reminders_go_on() -> None:
    state, _ = leak_state()
    assert follow_up(state, ESCALATING, T0 + 39 * MIN).next_due == T0 + 40 * MIN
    result = follow_up(state, ESCALATING, T0 + 40 * MIN)
    assert sent(result.events) == [(FollowUpType.ESCALATED, None, False)]
    assert result.events[0].due == T0 + 40 * MIN
    assert result.next_due == T0 + 45 * MIN
    state = restart(state)  # escalated is stored: never twice
    assert state.active[AlertType.LEAK].escalated
    assert sent(follow_up(state, ESCALATING, T0 + 45 * MIN).events) == [
        (FollowUpType.REMINDER, 3, False)
    ]


def test_escalation_due_with_a_reminder_sends_the_escalation_only() -> None:
    state, _ = leak_state()
    settings = MeterSettings(escalation_delay=30 * MIN)
    follow_up(state, settings, T0 + 15 * MIN)
    result = follow_up(state, settings, T0 + 30 * MIN)
    assert sent(result.events) == [(FollowUpType.ESCALATED, None, False)]
    assert state.active[AlertType.LEAK].reminders == 2  # counted, not sent
    assert sent(follow_up(state, settings, T0 + 45 * MIN).events) == [
        (FollowUpType.REMINDER, 3, False)
    ]


def test_escalation_after_downtime_is_late_and_once() -> None:
    state, _ = leak_state()
    state = restart(state)
    up = T0 + 3 * 60 * MIN
    result = follow_up(state, ESCALATING, up, online_since=up)
    assert sent(result.events) == [(FollowUpType.ESCALATED, None, True)]
    assert state.active[AlertType.LEAK].reminders == 12  # counted, not sent separately


def test_acknowledged_alerts_do_not_escalate() -> None:
    state, alert = leak_state()
    result = follow_up(state, ESCALATING, T0 + 60 * MIN, {alert.alert_id})
    assert (result.events, result.next_due) == ([], None)
    assert not state.active[AlertType.LEAK].escalated


def test_an_alert_stored_before_reminders_counts_from_when_it_is_first_seen() -> None:
    state, _ = leak_state()
    stored = state.as_dict()
    for item in stored["active"]:
        del item["raised_at"], item["reminders"], item["escalated"]
    old = MeterState.from_dict(stored)
    assert old.active[AlertType.LEAK].raised_at is None
    now = T0 + 24 * 60 * MIN
    result = follow_up(old, DEFAULTS, now)
    assert (result.events, result.next_due) == ([], now + 15 * MIN)
    assert old.active[AlertType.LEAK].raised_at == now


def test_junk_bookkeeping_is_read_as_none() -> None:
    alert = MeterAlert.from_dict(
        {
            "dev_eui": EUI,
            "alert": "leak",
            "since": T0.isoformat(),
            "raised_at": "soon",
            "reminders": -3,
            "escalated": "yes",
        }
    )
    assert alert is not None
    assert (alert.raised_at, alert.reminders, alert.escalated) == (None, 0, False)
    again = MeterAlert.from_dict({**alert.as_stored(), "reminders": True})
    assert again is not None
    assert again.reminders == 0


_WHEN = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(
    alerts=st.dictionaries(
        st.sampled_from(list(AlertType)),
        st.tuples(
            _WHEN,
            st.none() | _WHEN,
            st.integers(0, 10_000),
            st.booleans(),
            st.none() | st.floats(0, 1e6, allow_nan=False),
        ),
    )
)
def test_stored_alerts_round_trip(
    alerts: dict[AlertType, tuple[datetime, datetime | None, int, bool, float | None]],
) -> None:
    state = MeterState()
    for kind, (since, raised, reminders, escalated, rate) in alerts.items():
        state.active[kind] = MeterAlert(
            EUI, kind, since, rate, raised_at=raised, reminders=reminders, escalated=escalated
        )
    stored = json.loads(json.dumps(state.as_dict()))
    back = MeterState.from_dict(stored)
    assert back.as_dict() == stored
    for kind, alert in state.active.items():
        again = back.active[kind]
        assert (again.raised_at, again.reminders, again.escalated) == (
            alert.raised_at,
            alert.reminders,
            alert.escalated,
        )
        assert again == alert
