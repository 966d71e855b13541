"""Phone check at shift start: shift times across DST, checks, taps, misses, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
import json
from zoneinfo import ZoneInfo

from hypothesis import given, settings as hyp_settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.phone_check import (
    MissReason,
    PhoneCheckSettings,
    PhoneCheckState,
    last_shift,
    next_shift,
    shift_label,
    shift_of,
)

LOCAL = ZoneInfo("Europe/Stockholm")
KEY = "b1-"
SETTINGS = PhoneCheckSettings(
    shift_times=(time(7), time(15), time(21, 30)),
    phones=("phone_a", "phone_b"),
    timezone="Europe/Stockholm",
)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL).astimezone(UTC)


def test_next_shift_walks_the_day_and_into_the_next() -> None:
    assert next_shift(SETTINGS, at(2026, 11, 23, 6, 0)) == at(2026, 11, 23, 7, 0)
    assert next_shift(SETTINGS, at(2026, 11, 23, 7, 0)) == at(2026, 11, 23, 15, 0)
    assert next_shift(SETTINGS, at(2026, 11, 23, 21, 30)) == at(2026, 11, 24, 7, 0)
    assert last_shift(SETTINGS, at(2026, 11, 23, 6, 0)) == at(2026, 11, 22, 21, 30)
    assert last_shift(SETTINGS, at(2026, 11, 23, 7, 0)) == at(2026, 11, 23, 7, 0)


def test_dst_days() -> None:
    """Spring: 02:30 does not exist and moves to 03:30 summer time; autumn: once, first."""
    night = PhoneCheckSettings(
        shift_times=(time(2, 30),), phones=("p",), timezone="Europe/Stockholm"
    )
    spring = next_shift(night, datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    autumn = next_shift(night, datetime(2026, 10, 25, 0, 0, tzinfo=UTC))
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first
    assert next_shift(night, autumn) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    # The 07:00 shift is 07:00 local on both sides of the change: 23 or 25 hours apart.
    before = next_shift(SETTINGS, at(2026, 3, 28, 22, 0))
    assert before == at(2026, 3, 29, 7, 0) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert next_shift(SETTINGS, at(2026, 10, 24, 22, 0)) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    assert shift_label(before, "Europe/Stockholm") == "07:00"


def test_settings_from_form() -> None:
    keys = ("shift_1", "shift_2", "shift_3", "shift_4")
    form = {"shift_1": "15:00:00", "shift_2": "07:00:00", "shift_3": "07:00", "phones": ["a"]}
    parsed = PhoneCheckSettings.from_form(form, timezone="Europe/Stockholm", shift_keys=keys)
    assert parsed.shift_times == (time(7), time(15))
    assert parsed.grace == timedelta(minutes=10)
    with pytest.raises(ValueError, match="shift times"):
        PhoneCheckSettings.from_form({"phones": ["a"]}, timezone="UTC", shift_keys=keys)
    with pytest.raises(ValueError, match="grace"):
        PhoneCheckSettings.from_form(
            {"shift_1": "07:00", "grace": 0}, timezone="UTC", shift_keys=keys
        )


def test_a_check_with_one_tap_and_one_miss() -> None:
    state = PhoneCheckState()
    assert state.advance(SETTINGS, at(2026, 11, 23, 6, 0), key=KEY) == ([], [])
    assert state.next_wakeup(SETTINGS, at(2026, 11, 23, 6, 0)) == at(2026, 11, 23, 7, 0)
    misses, started = state.advance(SETTINGS, at(2026, 11, 23, 7, 0), key=KEY)
    assert misses == []
    [check] = started
    assert check.check_id == "b1-20261123T0600Z"
    assert check.due == at(2026, 11, 23, 7, 10)
    assert shift_of(check.check_id) == at(2026, 11, 23, 7, 0)
    assert shift_of("junk") is None
    assert state.next_wakeup(SETTINGS, at(2026, 11, 23, 7, 0)) == check.due
    assert state.confirm(check.check_id, 0, at(2026, 11, 23, 7, 3), "Anna") == "phone_a"
    assert state.confirm(check.check_id, 0, at(2026, 11, 23, 7, 4), "Anna") is None  # once
    assert state.confirm(check.check_id, 7, at(2026, 11, 23, 7, 4)) is None
    assert state.advance(SETTINGS, at(2026, 11, 23, 7, 9), key=KEY) == ([], [])
    misses, started = state.advance(SETTINGS, at(2026, 11, 23, 7, 10), key=KEY)
    assert started == []
    [miss] = misses
    assert (miss.phone, miss.reason, miss.late) == ("phone_b", MissReason.NOT_CONFIRMED, False)
    assert state.checks == {}
    assert state.failing == {"phone_b": check.check_id}
    assert state.advance(SETTINGS, at(2026, 11, 23, 7, 11), key=KEY) == ([], [])  # once
    # The next check confirmed by phone_b: its chain works again.
    _m, [second] = state.advance(SETTINGS, at(2026, 11, 23, 15, 0), key=KEY)
    assert state.confirm(second.check_id, 1, at(2026, 11, 23, 15, 1)) == "phone_b"
    assert state.failing == {}


def test_unreachable_is_a_miss_at_once_and_not_again() -> None:
    state = PhoneCheckState(watching_since=at(2026, 11, 23, 6, 0))
    _m, [check] = state.advance(SETTINGS, at(2026, 11, 23, 7, 0), key=KEY)
    miss = state.unreachable(check.check_id, "phone_a")
    assert miss is not None
    assert miss.reason is MissReason.NOT_REACHABLE
    assert state.unreachable(check.check_id, "phone_a") is None
    misses, _s = state.advance(SETTINGS, check.due, key=KEY)
    assert [m.phone for m in misses] == ["phone_b"]


def test_restart_before_due_keeps_the_check_after_due_expires_it_late_once() -> None:
    state = PhoneCheckState()
    state.advance(SETTINGS, at(2026, 11, 23, 6, 0), key=KEY)
    _m, [check] = state.advance(SETTINGS, at(2026, 11, 23, 7, 0), key=KEY)
    stored = json.loads(json.dumps(state.as_dict()))
    before = PhoneCheckState.from_dict(stored)
    assert before.as_dict() == state.as_dict()
    booted = at(2026, 11, 23, 7, 5)
    assert before.advance(SETTINGS, booted, key=KEY, online_since=booted) == ([], [])
    assert check.check_id in before.checks

    after = PhoneCheckState.from_dict(stored)
    booted = at(2026, 11, 23, 7, 40)
    misses, started = after.advance(SETTINGS, booted, key=KEY, online_since=booted)
    assert started == []  # 07:00 was already started
    assert sorted(m.phone for m in misses) == ["phone_a", "phone_b"]
    assert all(m.late for m in misses)
    assert after.advance(SETTINGS, booted, key=KEY, online_since=booted) == ([], [])


def test_a_shift_missed_while_down_starts_only_within_its_grace() -> None:
    state = PhoneCheckState(watching_since=at(2026, 11, 23, 6, 0))
    _m, [check] = state.advance(SETTINGS, at(2026, 11, 23, 7, 4), key=KEY)
    assert check.due == at(2026, 11, 23, 7, 14)  # the full grace from when it was sent
    state = PhoneCheckState(watching_since=at(2026, 11, 23, 6, 0))
    assert state.advance(SETTINGS, at(2026, 11, 23, 7, 30), key=KEY) == ([], [])
    assert state.last_shift == at(2026, 11, 23, 7, 0)
    assert state.next_wakeup(SETTINGS, at(2026, 11, 23, 7, 30)) == at(2026, 11, 23, 15, 0)


def test_no_settings_expires_but_starts_nothing() -> None:
    state = PhoneCheckState(watching_since=at(2026, 11, 23, 6, 0))
    _m, [check] = state.advance(SETTINGS, at(2026, 11, 23, 7, 0), key=KEY)
    assert state.next_wakeup(None, at(2026, 11, 23, 7, 0)) == check.due
    misses, started = state.advance(None, at(2026, 11, 23, 15, 0), key=KEY)
    assert len(misses) == 2
    assert started == []
    assert state.next_wakeup(None, at(2026, 11, 23, 15, 0)) is None
    state.forget_phones(["phone_a"])
    assert list(state.failing) == ["phone_a"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_TIMES = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.isoformat())
_STATUS = st.fixed_dictionaries(
    {"phone": st.text(max_size=8)},
    optional={
        "confirmed_at": _TIMES | _JSON,
        "confirmed_by": _JSON,
        "missed": st.sampled_from(["not_confirmed", "not_reachable", "x"]) | _JSON,
    },
)
_CHECK = st.fixed_dictionaries(
    {},
    optional={
        "shift": _TIMES | _JSON,
        "started": _TIMES,
        "due": _TIMES,
        "phones": st.lists(_STATUS, max_size=3) | _JSON,
    },
)
_STORED = st.fixed_dictionaries(
    {},
    optional={
        "watching_since": _TIMES | _JSON,
        "last_shift": _TIMES | _JSON,
        "checks": st.dictionaries(st.text(max_size=8), _CHECK | _JSON, max_size=3) | _JSON,
        "failing": st.dictionaries(st.text(max_size=8), _JSON, max_size=3) | _JSON,
    },
)


@hyp_settings(max_examples=300, deadline=None)
@given(_STORED | _JSON)
def test_stored_data_never_breaks_loading(data: object) -> None:
    """Whatever is stored loads; what loads stores and loads back the same."""
    state = PhoneCheckState.from_dict(data)
    again = PhoneCheckState.from_dict(json.loads(json.dumps(state.as_dict())))
    assert again.as_dict() == state.as_dict()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    state.advance(SETTINGS, now, key=KEY, online_since=now)  # and it runs


def test_a_phone_taken_off_during_a_check_is_not_reported() -> None:
    state = PhoneCheckState(watching_since=at(2026, 11, 23, 6, 0))
    _m, [check] = state.advance(SETTINGS, at(2026, 11, 23, 7, 0), key=KEY)
    state.forget_phones(["phone_a"])
    misses, _s = state.advance(SETTINGS, check.due, key=KEY)
    assert [m.phone for m in misses] == ["phone_a"]
