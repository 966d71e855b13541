"""Generic devices: recorded messages of real sensors, edge cases, and random JSON shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib import generic
from custom_components.ange_iot.angelib.catalog import MODELS, Kind, guess_model
from custom_components.ange_iot.angelib.device import DeviceConfig, DeviceState, device_kinds
from custom_components.ange_iot.angelib.generic import (
    FieldOverride,
    GenericState,
    Meaning,
    Role,
    ValueKind,
    value_key,
)
from custom_components.ange_iot.angelib.lns import chirpstack, tts
from custom_components.ange_iot.angelib.pipeline import Outcome, Pipeline
from custom_components.ange_iot.angelib.uplink import Uplink

DATA = Path(__file__).parent / "data" / "generic"
RECORDED = sorted(DATA.glob("*.json"))
T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def load(path: Path) -> dict[str, Any]:
    """One recorded message with its source and the expected fields."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def parse(recorded: dict[str, Any]) -> Uplink:
    """The recorded message through our own LNS parser."""
    if recorded["lns"] == "tts":
        return tts.parse_up(recorded["message"], source="tts")
    return chirpstack.parse_up(recorded["message"], source="chirpstack")


def test_recorded_set_covers_enough_real_devices() -> None:
    """At least 12 models of at least 6 vendors, none of them in our catalogue."""
    records = [load(p) for p in RECORDED]
    assert len({r["model"] for r in records}) >= 12
    vendors = {r["vendor"] for r in records}
    assert len(vendors) >= 6
    assert not vendors & {m.manufacturer for m in MODELS.values()}
    kinds = {
        (r["lns"], "normalized_payload" in r["message"].get("uplink_message", {})) for r in records
    }
    assert kinds == {("tts", True), ("tts", False), ("chirpstack", False)}
    for record in records:
        assert record["source"]["repository"]
        assert record["source"]["path"]
        assert guess_model(parse(record).profile_hint) is None


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_recorded_message(path: Path) -> None:
    """Each real message gives the fields, meanings, units and values written down by hand."""
    recorded = load(path)
    uplink = parse(recorded)
    state = GenericState()
    result = generic.apply(
        state, {}, uplink.lns_object, uplink.lns_normalized, warnings=uplink.lns_warnings
    )
    got = [
        {
            "key": spec.key,
            "meaning": str(spec.meaning),
            "kind": str(spec.kind),
            "unit": spec.unit,
            "value": result.values[value_key(spec.key)],
            "guessed": spec.guessed,
            "enabled": spec.enabled,
        }
        for spec in state.fields.values()
    ]
    assert got == recorded["expected"]
    assert result.new_fields == [e["key"] for e in recorded["expected"]]
    assert not result.type_changed
    # A second uplink of the same device changes nothing in the map.
    again = generic.apply(state, {}, uplink.lns_object, uplink.lns_normalized)
    assert again.new_fields == []
    assert again.values == result.values


def test_meaning_facts_are_consistent() -> None:
    """Every meaning's default unit, kinds and roles fit together."""
    for meaning, info in generic.MEANINGS.items():
        assert info.kinds, meaning
        if info.device_class in ("temperature", "humidity", "carbon_dioxide"):
            assert info.state_class == "measurement"
    for meaning, unit in generic.NORMALIZED.values():
        assert unit is None or unit in generic.MEANINGS[meaning].units


def test_tts_warnings_and_normalized_are_carried() -> None:
    """TTS normalized payloads and decoder warnings reach the uplink."""
    recorded = load(DATA / "talkpool_oy1110_tts_decoded.json")
    uplink = parse(recorded)
    assert uplink.lns_warnings == ("example warning from the payload formatter",)
    assert uplink.lns_normalized is None
    normalized = parse(load(DATA / "quandify_cubicmeter_tts_normalized.json"))
    assert normalized.lns_normalized is not None
    assert normalized.lns_object is not None


def test_normalized_wins_and_decoded_only_uplinks_add_nothing() -> None:
    """A device seen with normalized payloads never grows a second, decoded set of fields."""
    state = GenericState()
    generic.apply(state, {}, {"temp": 20.5}, [{"air": {"temperature": 20.5}}])
    assert list(state.fields) == ["air.temperature"]
    result = generic.apply(state, {}, {"temp": 21.0}, None)
    assert list(state.fields) == ["air.temperature"]
    assert result.values == {}


def test_latest_normalized_measurement_is_used() -> None:
    """Of several measurements, the one with the latest time."""
    leaves = generic.normalized_leaves(
        [
            {"time": "2026-11-20T06:00:00Z", "air": {"temperature": 1}},
            {"time": "2026-11-20T07:00:00Z", "air": {"temperature": 2}},
        ]
    )
    assert leaves is not None
    assert leaves["air.temperature"].value == 2
    assert "time" not in leaves


def test_type_change_keeps_the_entity_type_and_is_counted_once() -> None:
    """A number that turns into text is unknown, counted, reported the first time only."""
    state = GenericState()
    generic.apply(state, {}, {"temperature": 21.5}, None)
    first = generic.apply(state, {}, {"temperature": "error"}, None)
    second = generic.apply(state, {}, {"temperature": {"nested": 1}}, None)
    assert state.fields["temperature"].kind is ValueKind.NUMBER
    assert first.values[value_key("temperature")] is None
    assert first.type_changed == ["temperature"]
    assert second.type_changed == []
    assert state.type_changes == {"temperature": 1}
    ok = generic.apply(state, {}, {"temperature": "22.5"}, None)
    assert ok.values[value_key("temperature")] == 22.5


def test_nulls_arrays_and_no_object() -> None:
    """Nulls are learned later, arrays are not fields, no object is counted, not an error."""
    state = GenericState()
    result = generic.apply(state, {}, {"temperature": None, "history": [1, 2, 3]}, None)
    assert state.fields == {}
    assert result.values == {}
    result = generic.apply(state, {}, {"temperature": 3.5}, None)
    assert result.new_fields == ["temperature"]
    nothing = generic.apply(GenericState(), {}, None, None)
    assert nothing.no_object
    fresh = GenericState()
    generic.apply(fresh, {}, None, None)
    generic.apply(fresh, {}, None, None)
    assert fresh.no_codec
    assert fresh.without_object == 2


def test_huge_object_is_capped_once() -> None:
    """At most MAX_FIELDS fields; the cap is reported by the first uplink that hits it."""
    state = GenericState()
    big = {f"value_{i}": i for i in range(200)}
    first = generic.apply(state, {}, big, None)
    assert len(state.fields) == generic.MAX_FIELDS
    assert first.capped
    assert state.dropped == 200 - generic.MAX_FIELDS
    assert not generic.apply(state, {}, big, None).capped
    plain = [s for s in state.fields.values() if s.meaning is Meaning.NUMBER]
    assert sum(s.enabled for s in plain) == generic.ENABLED_PLAIN


def test_deep_nesting_and_odd_keys() -> None:
    """Flattening stops at MAX_DEPTH; odd characters in keys become underscores."""
    deep: dict[str, Any] = {"v": 1}
    for _ in range(20):
        deep = {"n": deep}
    assert generic.flatten(deep) == {}
    leaves = generic.flatten({"a b/c": {"ü": 1}, "": 2})
    assert set(leaves) == {"a_b_c._", "_"}


def test_overrides_correct_unit_meaning_hide_and_role() -> None:
    """The facility manager's corrections: unit, meaning, hidden, role (not a guess any more)."""
    state = GenericState()
    generic.apply(state, {}, {"distance": 1234, "status": 1}, None)
    assert state.fields["distance"].unit == "mm"
    overrides = {
        "distance": FieldOverride(unit="cm", role=Role.SNOW_DISTANCE),
        "status": FieldOverride(meaning=Meaning.LEAK, role=Role.WATER_LEAK),
    }
    specs = generic.effective_fields(state, overrides)
    assert specs["distance"].unit == "cm"
    assert not specs["distance"].guessed
    assert specs["status"].kind is ValueKind.BOOL
    result = generic.apply(state, overrides, {"distance": 123, "status": 1}, None)
    assert result.canonical == {"distance": 1230, "leak": True}
    assert result.values[value_key("status")] is True
    # A role the meaning cannot serve is dropped.
    wrong = generic.effective(state.fields["distance"], FieldOverride(role=Role.ACTIVITY))
    assert wrong.role is Role.NONE
    hidden = generic.effective(state.fields["distance"], FieldOverride(hidden=True))
    assert hidden.hidden


@pytest.mark.parametrize(
    ("meaning", "value", "unit", "expected"),
    [
        (Meaning.MOTION, True, None, {"motion_count": 1}),
        (Meaning.MOTION, 4, None, {"motion_count": 4}),
        (Meaning.OCCUPANCY, True, None, {"presence": True}),
        (Meaning.OCCUPANCY, 2, None, {"occupancy": 2}),
        (Meaning.PRESENCE, False, None, {"presence": False}),
        (Meaning.DOOR, True, None, {"door": True}),
        (Meaning.WATER_VOLUME, 5342, "L", {"volume": 5.342}),
        (Meaning.WATER_VOLUME, 12.5, "m³", {"volume": 12.5}),
        (Meaning.DISTANCE, 1.2, "m", {"distance": 1200}),
    ],
)
def test_canonical_fields_of_roles(
    meaning: Meaning, value: Any, unit: str | None, expected: dict[str, Any]
) -> None:
    """A field with a role feeds the canonical field the engines read, in their unit."""
    role = generic.MEANINGS[meaning].roles[0]
    kind = ValueKind.BOOL if isinstance(value, bool) else ValueKind.NUMBER
    spec = generic.FieldSpec(key="x", kind=kind, meaning=meaning, unit=unit, role=role)
    assert generic.canonical_fields(spec, value) == expected


def test_state_round_trip_and_junk() -> None:
    """The learned map survives a restart; junk in the store gives an empty map."""
    state = GenericState()
    generic.apply(state, {}, {"temperature": 21.5, "door": "open"}, None, received_at=T0)
    again = GenericState.from_dict(json.loads(json.dumps(state.as_dict())))
    assert again.fields == state.fields
    assert again.times == state.times
    for junk in (None, [], {"fields": "x"}, {"fields": [{"key": 1}, {"key": "a", "kind": "?"}]}):
        assert GenericState.from_dict(junk).fields == {}
    assert generic.parse_overrides({"a": {"meaning": "nonsense", "role": 5}, 3: {}}) == {
        "a": FieldOverride()
    }


def test_report_interval_is_learned_from_the_first_uplinks() -> None:
    """The median spacing of the first uplinks, rounded to minutes."""
    state = GenericState()
    for minutes in (0, 15, 30, 46, 60):
        generic.apply(state, {}, {"t": 1}, None, received_at=T0 + timedelta(minutes=minutes))
    assert state.learned_interval_s == 15 * 60


def _generic_config(
    overrides: dict[str, FieldOverride], dev_eui: str = "a84041000181b002"
) -> DeviceConfig:
    return DeviceConfig(
        dev_eui=dev_eui,
        model_id=generic.GENERIC_MODEL_ID,
        name="Door",
        field_overrides=overrides,
    )


def test_pipeline_generic_device_with_activity_role() -> None:
    """The door field chosen as activity makes door changes activity, like a catalogue door."""
    recorded = load(DATA / "dragino_lds02_chirpstack.json")
    uplink = parse(recorded)
    pipeline = Pipeline()
    config = _generic_config({"DOOR_OPEN_STATUS": FieldOverride(role=Role.ACTIVITY)})
    tracked = pipeline.add_device(config)
    result = pipeline.handle(uplink)
    assert result.outcome is Outcome.APPLIED
    assert result.generic is not None
    assert result.generic.new_fields[0] == "ALARM"
    assert tracked.state.values["door"] is False
    assert tracked.state.values[value_key("BAT_V")] == 2.952
    assert device_kinds(config, tracked.state) == frozenset({Kind.ACTIVITY})
    message = dict(recorded["message"])
    message["object"] = {**message["object"], "DOOR_OPEN_STATUS": 1}
    message["fCnt"] = 43
    message["time"] = "2026-11-20T07:20:00+00:00"
    opened = pipeline.handle(chirpstack.parse_up(message, source="chirpstack"))
    assert opened.applied is not None
    assert opened.applied.activity
    saved = DeviceState.from_dict(json.loads(json.dumps(tracked.state.as_dict())))
    assert saved.generic is not None
    assert list(saved.generic.fields) == list(tracked.state.generic.fields)  # type: ignore[union-attr]


def test_pipeline_generic_water_meter_volume_guard() -> None:
    """A generic meter's volume goes through the same decrease guard as a catalogue meter's."""
    recorded = load(DATA / "quandify_cubicmeter_tts_normalized.json")
    pipeline = Pipeline()
    config = _generic_config(
        {"metering.water.total": FieldOverride(role=Role.WATER_VOLUME)}, "70b3d5e050001234"
    )
    tracked = pipeline.add_device(config)
    pipeline.handle(parse(recorded))
    assert tracked.state.values["volume"] == 5.342
    message = json.loads(json.dumps(recorded["message"]))
    message["uplink_message"]["f_cnt"] = 43
    message["uplink_message"]["received_at"] = "2026-11-20T08:15:02Z"
    message["uplink_message"]["normalized_payload"][0]["metering"]["water"]["total"] = 5000
    result = pipeline.handle(tts.parse_up(message, source="tts"))
    assert result.applied is not None
    assert result.applied.volume_rejected == 5.0
    assert tracked.state.values["volume"] == 5.342


# -- random JSON shapes ---------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=6),
    ),
    max_leaves=40,
)
OBJECTS = st.dictionaries(st.text(max_size=12), JSON, max_size=12)


@settings(max_examples=300, deadline=None)
@given(first=OBJECTS, later=st.lists(OBJECTS, max_size=4), normalized=st.lists(JSON, max_size=3))
def test_random_json_never_raises_and_fields_keep_their_entity(
    first: dict[str, Any], later: list[dict[str, Any]], normalized: list[Any]
) -> None:
    """Any JSON shape: no exception, and a field once learned keeps its kind and meaning."""
    state = GenericState()
    generic.apply(state, {}, first, normalized or None)
    learned = dict(state.fields)
    for obj in later:
        result = generic.apply(state, {}, obj, None)
        for key, spec in learned.items():
            assert state.fields[key] == spec
        for key in result.new_fields:
            learned[key] = state.fields[key]
        for name, value in result.values.items():
            spec = state.fields[name.removeprefix(generic.VALUE_PREFIX)]
            if value is None:
                continue
            if spec.kind is ValueKind.BOOL:
                assert isinstance(value, bool)
            elif spec.kind is ValueKind.NUMBER:
                assert isinstance(value, int | float)
                assert not isinstance(value, bool)
            else:
                assert isinstance(value, str)
                assert len(value) <= generic.MAX_TEXT_LENGTH
    assert len(state.fields) <= generic.MAX_FIELDS
    assert GenericState.from_dict(json.loads(json.dumps(state.as_dict()))).fields == state.fields


@settings(max_examples=200, deadline=None)
@given(obj=OBJECTS)
def test_random_json_keys_are_stable(obj: dict[str, Any]) -> None:
    """The same object always gives the same keys, whatever the device saw before."""
    one, two = GenericState(), GenericState()
    generic.apply(two, {}, {"unrelated": 1}, None)
    generic.apply(one, {}, obj, None)
    generic.apply(two, {}, obj, None)
    assert set(one.fields) <= set(two.fields) | {"unrelated"}
    for key, spec in one.fields.items():
        if key != "unrelated":
            assert two.fields[key].key == spec.key


def test_demo_co2_sensor_is_decoded_by_its_network_server() -> None:
    """The demo's generic CO₂ sensor sends ChirpStack objects that type as CO₂ and climate."""
    from custom_components.ange_iot.angelib.simulator import (
        DEMO_DEVICES,
        DEMO_GENERIC_DEVICES,
        Simulator,
    )

    (air,) = DEMO_GENERIC_DEVICES
    sim = Simulator(seed=7, start=T0, devices=[*DEMO_DEVICES, air])
    messages = [m for m in sim.advance(T0 + timedelta(hours=6)) if m.dev_eui == air.dev_eui]
    assert 30 <= len(messages) <= 40  # every 10 minutes
    state = GenericState()
    for message in messages:
        uplink = chirpstack.parse_up(message.event, source="simulated")
        assert uplink.lns_object == message.fields
        generic.apply(state, {}, uplink.lns_object, None)
    assert {k: (str(s.meaning), s.unit) for k, s in state.fields.items()} == {
        "battery": ("battery_voltage", "V"),
        "co2": ("co2", "ppm"),
        "humidity": ("humidity", "%"),
        "temperature": ("temperature", "°C"),
    }
    assert not state.type_changes
    # Without its DevEUI added, the demo emits nothing for it.
    plain = Simulator(seed=7, start=T0).advance(T0 + timedelta(hours=1))
    assert air.dev_eui not in {m.dev_eui for m in plain}
