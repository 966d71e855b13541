"""Device state: availability, late uplinks, volume guard, persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.ange_iot.angelib.device import DeviceConfig, DeviceState, snow_depth_cm
from custom_components.ange_iot.angelib.names import device_model
from custom_components.ange_iot.angelib.uplink import Uplink

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ERS = DeviceConfig(dev_eui="a81758fffe0a1101", model_id="elsys_ers", name="Lgh 1101")
METER = DeviceConfig(dev_eui="0001a8f000002101", model_id="kamstrup_flowiq_2200", name="m")


def uplink(at: datetime, fcnt: int, payload: bytes = b"x") -> Uplink:
    return Uplink(
        dev_eui=ERS.dev_eui, fport=5, fcnt=fcnt, payload=payload, received_at=at, source="t"
    )


def test_availability_window_is_interval_times_missed_reports() -> None:
    """10-minute sensor, 3 missed reports: available for just under 30 minutes."""
    state = DeviceState()
    assert not state.available(ERS, T0)
    state.apply(ERS, uplink(T0, 1), {"motion_count": 0})
    assert state.available(ERS, T0 + timedelta(minutes=29, seconds=59))
    assert not state.available(ERS, T0 + timedelta(minutes=30))
    assert state.unavailable_at(ERS) == T0 + timedelta(minutes=30)


def test_late_uplink_counts_as_activity_but_keeps_newer_values() -> None:
    """A backfilled older report tells of past activity; it never rolls values back."""
    state = DeviceState()
    state.apply(ERS, uplink(T0, 10), {"temperature": 22.0, "motion_count": 0})
    result = state.apply(
        ERS, uplink(T0 - timedelta(minutes=20), 8), {"temperature": 19.0, "motion_count": 4}
    )
    assert result.late
    assert result.activity
    assert state.values["temperature"] == 22.0
    assert state.last_seen == T0
    assert state.last_activity == T0 - timedelta(minutes=20)


def test_late_meter_reading_is_not_a_decrease() -> None:
    """An older, lower reading arriving late is history, not a meter swap."""
    state = DeviceState()
    state.apply(METER, uplink(T0, 10), {"volume": 5.0})
    result = state.apply(METER, uplink(T0 - timedelta(hours=1), 9, b"y"), {"volume": 4.9})
    assert result.late
    assert result.volume_rejected is None
    assert not state.volume_decreased
    assert state.values["volume"] == 5.0


def test_decreasing_reading_is_flagged_and_not_applied() -> None:
    """A lower, newer reading is held back until accepted."""
    state = DeviceState()
    state.apply(METER, uplink(T0, 1), {"volume": 5.0})
    result = state.apply(METER, uplink(T0 + timedelta(hours=1), 2, b"y"), {"volume": 0.01})
    assert result.volume_rejected == 0.01
    assert state.volume_decreased
    assert state.values["volume"] == 5.0
    state.accept_volume()
    assert state.values["volume"] == 0.01
    assert not state.volume_decreased


def test_duplicate_is_same_fcnt_and_payload_but_not_an_fcnt_reset() -> None:
    """After a rejoin fCnt restarts at a low number with a new payload: not a duplicate."""
    state = DeviceState()
    state.apply(ERS, uplink(T0, 1, b"a"), {})
    assert state.is_duplicate(uplink(T0, 1, b"a"))
    assert not state.is_duplicate(uplink(T0 + timedelta(minutes=10), 1, b"b"))


def test_round_trip_through_storage_keeps_what_matters() -> None:
    """as_dict/from_dict keep values and times; hourly logs are not stored."""
    state = DeviceState()
    state.apply(
        METER,
        uplink(T0, 1),
        {"volume": 5.0, "volume_log_m3": [4.9, 5.0], "volume_log_times": ["a", "b"]},
    )
    restored = DeviceState.from_dict(state.as_dict())
    assert restored.values == {"volume": 5.0}
    assert restored.last_seen == T0
    assert DeviceState.from_dict({"last_seen": "garbage", "values": []}).last_seen is None


def test_snow_depth_is_height_minus_distance_never_negative() -> None:
    """Mounting height 2000 mm, distance 1850 mm: 15 cm; a distance beyond it is 0."""
    assert snow_depth_cm(1850, 2000) == 15.0
    assert snow_depth_cm(2100, 2000) == 0.0


def test_device_model_is_never_an_untranslated_generic_label() -> None:
    """HA never translates a device's model: a generic device shows its profile or none."""

    def config(model_id: str, model_text: str | None = None) -> DeviceConfig:
        return DeviceConfig(
            dev_eui="a81758fffe000001", model_id=model_id, name="x", model_text=model_text
        )

    assert device_model(config("elsys_ers")) == "ERS"
    assert device_model(config("generic")) is None
    assert device_model(config("generic", "LDS02")) == "LDS02"
