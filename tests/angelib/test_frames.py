"""Applied once: the frame window holds across replays, re-deliveries and restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import random

from hypothesis import given, settings, strategies as st

from custom_components.ange_iot.angelib.device import (
    FRAME_WINDOW,
    AppliedFrames,
    DeviceConfig,
    DeviceState,
    Frame,
)
from custom_components.ange_iot.angelib.pipeline import Outcome, Pipeline
from custom_components.ange_iot.angelib.uplink import Uplink

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ERS = DeviceConfig(dev_eui="a81758fffe0a1101", model_id="elsys_ers", name="Lgh 1101")
# Elsys ERS frame: temperature 21.0 °C, humidity 40 %, motion count (varies per frame).


def frame(fcnt: int, at: datetime | None = None) -> Uplink:
    payload = bytes.fromhex("0100d2022811") + bytes([fcnt % 256])
    return Uplink(
        dev_eui=ERS.dev_eui,
        fport=5,
        fcnt=fcnt,
        payload=payload,
        received_at=at or T0 + timedelta(minutes=10 * fcnt),
        source="test",
    )


def restart(pipeline: Pipeline) -> Pipeline:
    """A new pipeline from the stored snapshot, as after a Home Assistant restart."""
    stored = json.loads(json.dumps(pipeline.devices[ERS.dev_eui].state.as_dict()))
    fresh = Pipeline()
    fresh.add_device(ERS, DeviceState.from_dict(stored))
    return fresh


def test_replay_after_many_newer_frames_is_not_applied_again() -> None:
    """The old 32-entry memory forgot; the window remembers the last FRAME_WINDOW frames."""
    pipeline = Pipeline()
    pipeline.add_device(ERS)
    for n in range(1, 201):
        assert pipeline.handle(frame(n)).outcome is Outcome.APPLIED
    assert pipeline.handle(frame(50)).outcome is Outcome.DUPLICATE
    assert pipeline.handle(frame(200)).outcome is Outcome.DUPLICATE


def test_redelivery_after_a_restart_is_not_applied_again() -> None:
    """A ChirpStack re-delivery or a TTS backfill overlap after a restart: a duplicate."""
    pipeline = Pipeline()
    pipeline.add_device(ERS)
    for n in range(1, 11):
        pipeline.handle(frame(n))
    pipeline = restart(pipeline)
    for n in range(1, 11):
        assert pipeline.handle(frame(n)).outcome is Outcome.DUPLICATE
    assert pipeline.handle(frame(11)).outcome is Outcome.APPLIED


def test_measured_case_400_deliveries_of_201_frames() -> None:
    """The fault-injection run: 201 distinct frames, 199 copies, a restart in the middle."""
    rng = random.Random(7)
    distinct = [frame(n) for n in range(1, 202)]
    deliveries = list(distinct) + [rng.choice(distinct) for _ in range(199)]
    # Copies arrive late, out of order (re-deliveries and backfill overlaps).
    deliveries = distinct + sorted(deliveries[201:], key=lambda _: rng.random())
    pipeline = Pipeline()
    pipeline.add_device(ERS)
    applied = 0
    for i, uplink in enumerate(deliveries):
        if i == 250:
            pipeline = restart(pipeline)
        applied += pipeline.handle(uplink).outcome is Outcome.APPLIED
    assert applied == 201


def test_late_frame_never_applied_is_applied_once() -> None:
    """A frame missed while the gateway was down, backfilled later: applied once."""
    pipeline = Pipeline()
    pipeline.add_device(ERS)
    for n in (1, 2, 4, 5):
        pipeline.handle(frame(n))
    result = pipeline.handle(frame(3))
    assert result.outcome is Outcome.APPLIED
    assert result.applied is not None
    assert result.applied.late
    assert restart(pipeline).handle(frame(3)).outcome is Outcome.DUPLICATE


def test_frame_older_than_the_window_is_refused_as_stale() -> None:
    """Too old to tell whether it was applied: refused and counted, never applied twice."""
    pipeline = Pipeline()
    pipeline.add_device(ERS)
    for n in range(1, FRAME_WINDOW + 20):
        pipeline.handle(frame(n))
    assert pipeline.handle(frame(3)).outcome is Outcome.STALE
    assert pipeline.counters[Outcome.STALE] == 1


def test_counter_reset_starts_a_new_epoch() -> None:
    """A rejoin restarts fCnt: new frames apply; a replay from before the reset does not."""
    pipeline = Pipeline()
    pipeline.add_device(ERS)
    for n in range(1, 11):
        pipeline.handle(frame(n))
    after = T0 + timedelta(days=1)
    for n in range(1, 4):
        uplink = frame(n, after + timedelta(minutes=10 * n))
        other = bytes.fromhex("0100d3022811") + bytes([n])  # 21.1 °C: another payload
        uplink = Uplink(**{**_fields(uplink), "payload": other})
        assert pipeline.handle(uplink).outcome is Outcome.APPLIED
    assert pipeline.handle(frame(9)).outcome is not Outcome.APPLIED
    assert restart(pipeline).handle(frame(9)).outcome is Outcome.STALE


def test_state_stored_before_the_window_existed_knows_its_last_frame() -> None:
    """An upgrade: the stored fCnt seeds the window, so the last frame is not re-applied."""
    state = DeviceState()
    state.apply(ERS, frame(7), {})
    stored = state.as_dict()
    del stored["frames"]
    restored = DeviceState.from_dict(stored)
    assert restored.classify(frame(7)) is Frame.DUPLICATE
    assert restored.classify(frame(8)) is Frame.NEW


def test_window_survives_bad_stored_data() -> None:
    """Unusable stored windows fall back to what the stored fCnt tells."""
    assert AppliedFrames.from_dict({"top": 5, "bits": "zz"}, None).top == 5
    assert AppliedFrames.from_dict({"top": "5", "bits": "1"}, 3).top == 3
    assert AppliedFrames.from_dict(None, None).top is None


@settings(max_examples=200, deadline=None)
@given(
    order=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=300),
    restarts=st.sets(st.integers(min_value=0, max_value=300), max_size=5),
)
def test_no_frame_is_ever_applied_twice(order: list[int], restarts: set[int]) -> None:
    """Any delivery order, any copies, restarts anywhere: each frame applies at most once."""
    pipeline = Pipeline()
    pipeline.add_device(ERS)
    applied: list[int] = []
    for i, n in enumerate(order):
        if i in restarts:
            pipeline = restart(pipeline)
        if pipeline.handle(frame(n)).outcome is Outcome.APPLIED:
            applied.append(n)
    assert len(applied) == len(set(applied))
    # Nothing newer than what was applied is ever refused.
    assert max(order) in applied


def _fields(uplink: Uplink) -> dict[str, object]:
    return {name: getattr(uplink, name) for name in Uplink.__dataclass_fields__}
