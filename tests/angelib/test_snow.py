"""Snow clearing: the rules, hysteresis at the threshold, residue, round trips, properties."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
import json
import math
from zoneinfo import ZoneInfo

from hypothesis import given, settings as hyp_settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.snow import (
    DEFAULT_SETTINGS,
    SiteState,
    SnowEvent,
    SnowEventType,
    SnowSettings,
    site_depth,
    update,
)

NEEDED = SnowEventType.CLEARING_NEEDED
CLEARED = SnowEventType.CLEARED
T0 = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
STEP = timedelta(minutes=10)


def feed(
    depths: Iterable[float | None],
    state: SiteState | None = None,
    settings: SnowSettings = DEFAULT_SETTINGS,
    start: datetime = T0,
) -> tuple[SiteState, list[SnowEvent | None]]:
    """Run ``update`` over ``depths`` at 10-minute steps; the state and each step's result."""
    state = state if state is not None else SiteState()
    out = [update(state, settings, depth, start + i * STEP) for i, depth in enumerate(depths)]
    return state, out


def kinds(events: Iterable[SnowEvent | None]) -> list[str]:
    return [str(e.type) for e in events if e is not None]


# -- settings ------------------------------------------------------------------------


def test_default_settings() -> None:
    assert SnowSettings() == SnowSettings(threshold_cm=8.0, min_rise_cm=5.0)
    assert DEFAULT_SETTINGS.as_dict() == {"threshold_cm": 8.0, "min_rise_cm": 5.0}


def test_settings_from_dict_on_top_of_a_base() -> None:
    base = SnowSettings(threshold_cm=10, min_rise_cm=4)
    assert SnowSettings.from_dict({}, base) == base
    assert SnowSettings.from_dict({"threshold_cm": 12}, base) == SnowSettings(
        threshold_cm=12, min_rise_cm=4
    )
    assert SnowSettings.from_dict({"min_rise_cm": None, "other": 1}) == DEFAULT_SETTINGS
    assert SnowSettings.from_dict({"threshold_cm": "7,5", "min_rise_cm": " 0 "}) == SnowSettings(
        threshold_cm=7.5, min_rise_cm=0
    )
    assert SnowSettings.from_dict({"threshold_cm": 500}).threshold_cm == 500


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"threshold_cm": 0}, r"threshold_cm: .* above 0 cm \(got 0\)"),
        ({"threshold_cm": -3}, r"threshold_cm: .* above 0 cm"),
        ({"threshold_cm": 500.5}, r"threshold_cm: .* at most 500 cm \(got 500.5\)"),
        ({"min_rise_cm": -0.1}, r"min_rise_cm: .* not be negative \(got -0.1\)"),
        ({"threshold_cm": "deep"}, r"threshold_cm: expected a number of centimetres, got 'deep'"),
        ({"threshold_cm": True}, r"threshold_cm: expected a number"),
        ({"min_rise_cm": float("nan")}, r"min_rise_cm: expected a number"),
        ({"threshold_cm": "inf"}, r"threshold_cm: expected a number"),
        ({"min_rise_cm": [5]}, r"min_rise_cm: expected a number"),
    ],
)
def test_settings_refused_with_a_clear_message(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SnowSettings.from_dict(values)


def test_settings_checked_on_construction_too() -> None:
    with pytest.raises(ValueError, match="threshold_cm"):
        SnowSettings(threshold_cm=0)


# -- site depth ----------------------------------------------------------------------


def test_site_depth_is_the_rounded_mean() -> None:
    assert site_depth([]) is None
    assert site_depth([9.0]) == 9.0
    assert site_depth([9.0, 10.0]) == 9.5
    assert site_depth([1.0, 2.0, 2.0]) == 1.7
    assert site_depth([7, 8]) == 7.5
    assert site_depth((0.04, -0.06)) == 0.0
    assert math.copysign(1, site_depth([-0.01]) or 0.0) == 1  # never -0.0
    assert site_depth([float("nan"), 4.0, float("inf")]) == 4.0
    assert site_depth([float("nan")]) is None


# -- the rules -----------------------------------------------------------------------


def test_clearing_needed_from_the_threshold() -> None:
    state, events = feed([0, 3, 7.9, 8.0, 9.5])
    assert kinds(events) == ["clearing_needed"]
    event = events[3]
    assert event == SnowEvent(
        NEEDED,
        depth_cm=8.0,
        since=T0 + 3 * STEP,
        threshold_cm=8.0,
        baseline_cm=0.0,
        peak_cm=8.0,
    )
    assert event.as_dict() == {
        "type": "clearing_needed",
        "depth_cm": 8.0,
        "since": "2026-12-01T05:30:00+00:00",
        "threshold_cm": 8.0,
        "baseline_cm": 0.0,
        "peak_cm": 8.0,
    }
    assert state == SiteState(
        needs_clearing=True,
        since=T0 + 3 * STEP,
        baseline_cm=0.0,
        peak_cm=9.5,
        depth_cm=9.5,
        updated=T0 + 4 * STEP,
    )


def test_an_unploughed_lot_already_deep_needs_clearing_at_once() -> None:
    _, events = feed([20.0])
    assert kinds(events) == ["clearing_needed"]
    assert events[0] is not None
    assert events[0].baseline_cm == 0.0


def test_ploughed_clears_and_sets_the_baseline() -> None:
    state, events = feed([2, 9, 14, 12, 6, 3])
    assert kinds(events) == ["clearing_needed", "cleared"]
    cleared = events[4]  # 6 < 8 and 6 <= 14 - 5
    assert cleared == SnowEvent(
        CLEARED,
        depth_cm=6.0,
        since=T0 + 4 * STEP,
        threshold_cm=8.0,
        baseline_cm=6.0,
        peak_cm=14.0,
    )
    assert cleared.as_dict()["type"] == "cleared"
    # While clear the baseline follows the lowest depth: 3 cm now.
    assert state == SiteState(
        needs_clearing=False,
        since=None,
        baseline_cm=3.0,
        peak_cm=None,
        depth_cm=3.0,
        updated=T0 + 5 * STEP,
    )


def test_melting_clears_too() -> None:
    _, events = feed([9, 9.5, 8.5, 7, 6, 5, 4.5, 4.0])
    assert kinds(events) == ["clearing_needed", "cleared"]
    assert events[6] is not None  # 4.5 <= 9.5 - 5
    assert events[6].type is CLEARED


def test_below_the_threshold_is_not_enough_to_clear() -> None:
    """From a peak of 9 cm, 7 cm is below the threshold but only 2 cm lower: still needed."""
    state, events = feed([9, 7, 6, 5])
    assert kinds(events) == ["clearing_needed"]
    assert state.needs_clearing
    assert kinds(feed([4], state)[1]) == ["cleared"]


def test_a_deep_peak_clears_at_the_threshold() -> None:
    """After 30 cm, anything below 8 cm is 5 cm lower: the threshold decides."""
    _, events = feed([30, 8.0, 7.9])
    assert kinds(events) == ["clearing_needed", "cleared"]
    assert events[2] is not None
    assert events[2].depth_cm == 7.9


@pytest.mark.parametrize("seed", range(5))
def test_noise_at_the_threshold_never_flaps(seed: int) -> None:
    """±0.3 cm of noise around 8 cm: one event, however long it lasts."""
    import random

    rng = random.Random(seed)
    noisy = [round(8.0 + rng.uniform(-0.3, 0.3), 1) for _ in range(500)]
    noisy[0] = 8.2  # starts above: clearing needed once
    _, events = feed([0.0, *noisy])
    assert kinds(events) == ["clearing_needed"]
    # ... and noise just below the threshold from a clear lot never fires.
    _, events = feed([round(7.95 + rng.uniform(-0.3, 0.0), 1) for _ in range(500)])
    assert kinds(events) == []


def test_compacted_residue_needs_the_rise() -> None:
    """Ploughed down to a 6 cm crust: needed again only at 11 cm (6 + 5), not at 8."""
    state, events = feed([15, 6])
    assert kinds(events) == ["clearing_needed", "cleared"]
    assert state.baseline_cm == 6.0
    state, events = feed([8, 9, 10, 10.9], state)
    assert kinds(events) == []
    state, events = feed([11.0], state)
    assert events[0] is not None
    assert events[0].type is NEEDED
    assert events[0].baseline_cm == 6.0


def test_the_baseline_follows_melting_while_clear() -> None:
    """The crust melts to 2 cm: 8 cm is a 6 cm rise again."""
    state, events = feed([15, 6, 4, 2, 8])
    assert kinds(events) == ["clearing_needed", "cleared", "clearing_needed"]
    assert state.baseline_cm == 2.0


def test_repeated_identical_updates_fire_once() -> None:
    _, events = feed([12.0] * 20 + [2.0] * 20)
    assert kinds(events) == ["clearing_needed", "cleared"]


def test_no_depth_changes_nothing() -> None:
    state, _ = feed([2, 9])
    before = SiteState.from_dict(state.as_dict())
    assert update(state, DEFAULT_SETTINGS, None, T0 + timedelta(hours=5)) is None
    assert state == before
    assert update(state, DEFAULT_SETTINGS, math.nan, T0 + timedelta(hours=5)) is None
    assert state == before


def test_negative_depth_counts_as_zero() -> None:
    state, events = feed([-1.5, 5.0])
    assert kinds(events) == []
    assert state.baseline_cm == 0.0
    assert state.depth_cm == 5.0
    state, _ = feed([-0.4], state)
    assert state.depth_cm == 0.0


def test_zero_rise_clears_below_the_threshold() -> None:
    settings = SnowSettings(threshold_cm=8, min_rise_cm=0)
    _, events = feed([8, 7.9, 8, 7.9], settings=settings)
    assert kinds(events) == ["clearing_needed", "cleared", "clearing_needed", "cleared"]


def test_local_times_are_stored_in_utc() -> None:
    local = datetime(2026, 12, 1, 6, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    state = SiteState()
    event = update(state, DEFAULT_SETTINGS, 10.0, local)
    assert event is not None
    assert event.since == T0
    assert event.since.tzinfo is UTC
    assert state.updated == T0


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        update(SiteState(), DEFAULT_SETTINGS, 1.0, datetime(2026, 12, 1, 6, 0))


def test_settings_changed_between_updates() -> None:
    """A new threshold applies from the next update on."""
    state, events = feed([7.0])
    assert kinds(events) == []
    event = update(state, SnowSettings(threshold_cm=5), 7.0, T0 + STEP)
    assert event is not None
    assert event.threshold_cm == 5


# -- state round trips ---------------------------------------------------------------


def test_state_round_trip_through_json() -> None:
    for depths in ([], [3], [3, 12], [3, 12, 14], [3, 12, 14, 2]):
        state, _ = feed(depths)
        data = json.loads(json.dumps(state.as_dict()))
        assert SiteState.from_dict(data) == state


def test_state_snapshot_format() -> None:
    state, _ = feed([0, 12])
    assert state.as_dict() == {
        "needs_clearing": True,
        "since": "2026-12-01T05:10:00+00:00",
        "baseline_cm": 0.0,
        "peak_cm": 12.0,
        "depth_cm": 12.0,
        "updated": "2026-12-01T05:10:00+00:00",
    }


@pytest.mark.parametrize(
    "junk",
    [
        None,
        "state",
        [],
        {},
        {"needs_clearing": "yes", "baseline_cm": "6", "since": "never", "peak_cm": 3},
        {"needs_clearing": 1, "depth_cm": float("inf"), "updated": 12},
    ],
)
def test_state_from_junk_is_empty(junk: object) -> None:
    assert SiteState.from_dict(junk) == SiteState()


def test_state_from_dict_mends_what_it_can() -> None:
    state = SiteState.from_dict(
        {
            "needs_clearing": True,
            "since": "2026-12-01T06:00:00+01:00",
            "baseline_cm": -2,
            "peak_cm": None,
            "depth_cm": 9.0,
            "updated": "2026-12-01T05:00:00",  # naive: read as UTC
        }
    )
    assert state == SiteState(
        needs_clearing=True,
        since=T0,
        baseline_cm=0.0,
        peak_cm=9.0,  # lost peak: at least the last depth
        depth_cm=9.0,
        updated=T0,
    )
    # A peak is meaningless while clear.
    assert SiteState.from_dict({"needs_clearing": False, "peak_cm": 9.0}).peak_cm is None
    # A restored site keeps working: cleared by the next low depth.
    assert kinds(feed([3.0], state)[1]) == ["cleared"]


# -- properties ----------------------------------------------------------------------

depth_values = st.one_of(
    st.none(),
    st.floats(min_value=-5, max_value=120, allow_nan=False).map(lambda x: round(x, 1)),
)
any_settings = st.builds(
    SnowSettings,
    threshold_cm=st.floats(min_value=0.5, max_value=60).map(lambda x: round(x, 1)),
    min_rise_cm=st.floats(min_value=0, max_value=20).map(lambda x: round(x, 1)),
)


@hyp_settings(max_examples=300, deadline=None)
@given(depths=st.lists(depth_values, max_size=80), settings=any_settings)
def test_events_alternate_starting_with_clearing_needed(
    depths: list[float | None], settings: SnowSettings
) -> None:
    state = SiteState()
    fired: list[SnowEvent] = []
    for i, depth in enumerate(depths):
        was = state.needs_clearing
        event = update(state, settings, depth, T0 + i * STEP)
        if event is not None:
            fired.append(event)
            # An event is exactly a change of the status, and matches it.
            assert state.needs_clearing is (event.type is NEEDED)
            assert was is not state.needs_clearing
            assert event.peak_cm >= event.depth_cm or event.type is CLEARED
        else:
            assert state.needs_clearing is was
        # Invariants of the state.
        assert state.baseline_cm >= 0
        if state.needs_clearing:
            assert state.peak_cm is not None
            assert state.peak_cm >= settings.threshold_cm
            assert state.since is not None
        else:
            assert state.peak_cm is None
            assert state.since is None
            if state.depth_cm is not None:
                assert state.baseline_cm <= state.depth_cm
    expected = [NEEDED, CLEARED] * len(fired)
    assert [e.type for e in fired] == expected[: len(fired)]
    # The state survives a JSON round trip at any point (checked at the end).
    assert SiteState.from_dict(json.loads(json.dumps(state.as_dict()))) == state


@hyp_settings(max_examples=200, deadline=None)
@given(depths=st.lists(depth_values, max_size=40), settings=any_settings)
def test_repeating_each_depth_changes_nothing(
    depths: list[float | None], settings: SnowSettings
) -> None:
    """Updating twice with the same depth gives the same events as once."""
    once, once_events = feed(depths, settings=settings)
    twice, twice_events = feed([d for d in depths for _ in range(2)], settings=settings)
    assert kinds(once_events) == kinds(twice_events)
    assert once.needs_clearing is twice.needs_clearing
    assert once.baseline_cm == twice.baseline_cm
    assert once.peak_cm == twice.peak_cm
