"""Generic devices: typed fields from what the network server already decoded.

A sensor outside the catalogue is still decoded by the network server with the vendor's own
codec: The Things Stack sends ``uplink_message.normalized_payload`` (the TTN Device
Repository's normalized schema, known names and units) and ``decoded_payload`` (free-form),
ChirpStack sends ``object`` (free-form). This module turns those into a stable map of typed
fields, each with a guessed meaning, unit and value kind, and applies an uplink to it.

Rules kept here (and tested):
* A field's key is its dotted path in the decoded object (nested objects flattened), so the
  same field is the same key across restarts and payload variations.
* Known normalized paths are facts (``guessed=False``); everything read from a vendor name,
  a unit suffix or a magnitude is a guess (``guessed=True``) the facility manager can correct.
* A field's value kind (number, text, on/off) is fixed when it is first seen: a later value of
  another type is shown as unknown and counted, never a new entity type.
* At most ``MAX_FIELDS`` fields per device; plain numbers beyond ``ENABLED_PLAIN`` start disabled.
* Nothing here raises on any JSON shape: ``apply`` returns what it could use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
import math
import re
from statistics import median
from typing import Any

GENERIC_MODEL_ID = "generic"
GENERIC_CODEC = "lns"
MAX_FIELDS = 64  # fields tracked per device; more are ignored (logged once)
ENABLED_PLAIN = 8  # plain numeric fields beyond this many start disabled
MAX_DEPTH = 6  # nesting levels flattened
MAX_LEAVES = 512  # leaves looked at per uplink (a huge object is cut, not walked)
MAX_KEY_LENGTH = 80
MAX_TEXT_LENGTH = 255  # HA's state length limit
INTERVAL_SAMPLES = 5  # uplink times kept to learn the report interval
MIN_INTERVAL_S = 60

SOURCE_NORMALIZED = "normalized"
SOURCE_DECODED = "decoded"
VALUE_PREFIX = "lns:"  # device-state keys of generic field values (never a canonical name)


class Meaning(StrEnum):
    """What a field measures; the HA layer maps each to a device class and translation."""

    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    PRESSURE = "pressure"
    CO2 = "co2"
    ILLUMINANCE = "illuminance"
    BATTERY = "battery"  # percent
    BATTERY_VOLTAGE = "battery_voltage"
    DISTANCE = "distance"
    WATER_VOLUME = "water_volume"
    MOTION = "motion"  # detected (on/off) or a count of triggers
    OCCUPANCY = "occupancy"  # occupied (on/off) or a number of people
    PRESENCE = "presence"
    DOOR = "door"  # door/window contact, on = open
    LEAK = "leak"
    COUNTER = "counter"  # a count that only grows (or resets)
    NUMBER = "number"  # a plain number of unknown meaning
    TEXT = "text"
    FLAG = "flag"  # a plain on/off of unknown meaning


class ValueKind(StrEnum):
    """The entity type a field gets (fixed when the field is first seen)."""

    NUMBER = "number"
    TEXT = "text"
    BOOL = "bool"


class Role(StrEnum):
    """What a field does beyond its own entity (chosen by the facility manager)."""

    NONE = "none"
    ACTIVITY = "activity"  # an apartment's activity sensor (care checks)
    WATER_VOLUME = "water_volume"  # a building's water meter register
    WATER_LEAK = "water_leak"  # the meter's leak alarm
    SNOW_DISTANCE = "snow_distance"  # a snow-site distance sensor (with a mounting height)


@dataclass(frozen=True, slots=True)
class MeaningInfo:
    """Facts about a meaning: value kinds, units, device and state class (HA's values)."""

    kinds: tuple[ValueKind, ...]
    units: tuple[str, ...] = ()  # accepted units, the first is the default
    device_class: str | None = None
    state_class: str | None = None
    roles: tuple[Role, ...] = ()


_NUM = (ValueKind.NUMBER,)
_BOOL = (ValueKind.BOOL,)
MEANINGS: dict[Meaning, MeaningInfo] = {
    Meaning.TEMPERATURE: MeaningInfo(_NUM, ("°C", "°F"), "temperature", "measurement"),
    Meaning.HUMIDITY: MeaningInfo(_NUM, ("%",), "humidity", "measurement"),
    Meaning.PRESSURE: MeaningInfo(
        _NUM, ("hPa", "Pa", "kPa", "mbar", "bar"), "atmospheric_pressure", "measurement"
    ),
    Meaning.CO2: MeaningInfo(_NUM, ("ppm",), "carbon_dioxide", "measurement"),
    Meaning.ILLUMINANCE: MeaningInfo(_NUM, ("lx",), "illuminance", "measurement"),
    Meaning.BATTERY: MeaningInfo(_NUM, ("%",), "battery", "measurement"),
    Meaning.BATTERY_VOLTAGE: MeaningInfo(_NUM, ("V", "mV"), "voltage", "measurement"),
    Meaning.DISTANCE: MeaningInfo(
        _NUM, ("mm", "cm", "m"), "distance", "measurement", (Role.SNOW_DISTANCE,)
    ),
    Meaning.WATER_VOLUME: MeaningInfo(
        _NUM, ("m³", "L"), "water", "total_increasing", (Role.WATER_VOLUME,)
    ),
    Meaning.MOTION: MeaningInfo((ValueKind.BOOL, ValueKind.NUMBER), (), "motion", None,
                                (Role.ACTIVITY,)),
    Meaning.OCCUPANCY: MeaningInfo((ValueKind.BOOL, ValueKind.NUMBER), (), "occupancy", None,
                                   (Role.ACTIVITY,)),
    Meaning.PRESENCE: MeaningInfo(_BOOL, (), "presence", None, (Role.ACTIVITY,)),
    Meaning.DOOR: MeaningInfo(_BOOL, (), "door", None, (Role.ACTIVITY,)),
    Meaning.LEAK: MeaningInfo(_BOOL, (), "moisture", None, (Role.WATER_LEAK,)),
    Meaning.COUNTER: MeaningInfo(_NUM, (), None, "total_increasing"),
    Meaning.NUMBER: MeaningInfo(_NUM, (), None, "measurement"),
    Meaning.TEXT: MeaningInfo((ValueKind.TEXT,)),
    Meaning.FLAG: MeaningInfo(_BOOL),
}  # fmt: skip

# Unit spellings seen in decoders, to our (Home Assistant's) spelling.
UNIT_ALIASES: dict[str, str] = {
    "c": "°C", "°c": "°C", "degc": "°C", "celsius": "°C", "f": "°F", "°f": "°F",
    "%": "%", "pct": "%", "percent": "%", "%rh": "%", "rh": "%",
    "hpa": "hPa", "pa": "Pa", "kpa": "kPa", "mbar": "mbar", "bar": "bar",
    "ppm": "ppm", "lx": "lx", "lux": "lx",
    "v": "V", "volt": "V", "volts": "V", "mv": "mV",
    "mm": "mm", "cm": "cm", "m": "m",
    "m3": "m³", "m³": "m³", "l": "L", "liter": "L", "litre": "L", "liters": "L", "litres": "L",
}  # fmt: skip

# The TTN Device Repository's normalized schema (lorawan-devices lib/payload.json): facts.
NORMALIZED: dict[str, tuple[Meaning, str | None]] = {
    "air.temperature": (Meaning.TEMPERATURE, "°C"),
    "air.relativeHumidity": (Meaning.HUMIDITY, "%"),
    "air.pressure": (Meaning.PRESSURE, "hPa"),
    "air.co2": (Meaning.CO2, "ppm"),
    "air.lightIntensity": (Meaning.ILLUMINANCE, "lx"),
    "battery": (Meaning.BATTERY_VOLTAGE, "V"),
    "water.leak": (Meaning.LEAK, None),
    "water.temperature": (Meaning.TEMPERATURE, "°C"),
    "soil.temperature": (Meaning.TEMPERATURE, "°C"),
    "metering.water.total": (Meaning.WATER_VOLUME, "m³"),  # litres on the wire, see _LITRES
    "action.motion.detected": (Meaning.MOTION, None),
    "action.motion.count": (Meaning.MOTION, None),
    "action.contactState": (Meaning.DOOR, None),
}
_LITRES = frozenset({"metering.water.total"})  # normalized litres shown as m³
_NORMALIZED_SKIP = frozenset({"time"})  # the measurement time, not a field

# Name guesses: (tokens any of which must be in the name, meaning). First match wins.
_RULES: tuple[tuple[frozenset[str], Meaning], ...] = (
    (frozenset({"motion", "pir", "movement"}), Meaning.MOTION),
    (frozenset({"occupancy", "occupied"}), Meaning.OCCUPANCY),
    (frozenset({"presence", "present"}), Meaning.PRESENCE),
    (frozenset({"duration", "time", "timestamp", "interval", "period", "version", "id",
                "uptime", "fcnt", "rssi", "snr", "port"}), Meaning.NUMBER),
    (frozenset({"leak", "leakage", "flood", "flooding", "waterleak"}), Meaning.LEAK),
    (frozenset({"volume", "meter_reading", "meterreading", "consumption", "index"}),
     Meaning.WATER_VOLUME),
    (frozenset({"count", "counter", "counts", "times", "pulse", "pulses", "total"}),
     Meaning.COUNTER),
    (frozenset({"door", "contact", "reed", "window", "contactstate", "opened"}), Meaning.DOOR),
    (frozenset({"temperature", "temp", "tempc", "temperaturec", "ambienttemperature"}),
     Meaning.TEMPERATURE),
    (frozenset({"humidity", "hum", "humi", "humid", "rh", "relativehumidity"}), Meaning.HUMIDITY),
    (frozenset({"pressure", "press", "baro", "barometer", "barometric"}), Meaning.PRESSURE),
    (frozenset({"co2", "eco2", "carbondioxide"}), Meaning.CO2),
    (frozenset({"light", "lux", "illuminance", "luminosity", "lightintensity", "illumination"}),
     Meaning.ILLUMINANCE),
    (frozenset({"batv", "vbat", "vdd", "battvolt", "batteryvoltage", "voltage", "volt",
                "batvolt"}), Meaning.BATTERY_VOLTAGE),
    (frozenset({"battery", "bat", "batt", "batterylevel", "battery_level"}), Meaning.BATTERY),
    (frozenset({"distance", "dist", "level", "range", "depth"}), Meaning.DISTANCE),
)  # fmt: skip
_VOLTAGE_TOKENS = frozenset({"v", "volt", "voltage", "mv"})
_STATUS = frozenset(
    {"status", "state", "mode", "alarm", "error", "code", "type", "low", "high", "changed",
     "change", "threshold", "limit", "sign", "offset", "delta"}
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^a-z0-9%³°]+")
_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-]+")
_NUMBER_TEXT = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([^\d\s].{0,8})?\s*$")

_TRUE_TEXT = frozenset({"true", "on", "yes", "open", "opened", "1", "detected", "leak",
                        "wet", "alarm", "occupied", "present", "motion", "light", "medium",
                        "heavy"})  # fmt: skip
_FALSE_TEXT = frozenset({"false", "off", "no", "closed", "close", "0", "none", "dry", "normal",
                         "ok", "clear", "unoccupied", "absent", "", "no_motion"})  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One field of a generic device: what it is and how it is shown."""

    key: str
    kind: ValueKind
    meaning: Meaning
    unit: str | None = None
    guessed: bool = True  # meaning/unit read from a name, suffix or magnitude
    source: str = SOURCE_DECODED
    enabled: bool = True  # the entity starts enabled
    hidden: bool = False  # the facility manager hid it (no entity)
    role: Role = Role.NONE

    @property
    def info(self) -> MeaningInfo:
        """The facts of this field's meaning."""
        return MEANINGS[self.meaning]

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (stored)."""
        return {
            "key": self.key,
            "kind": str(self.kind),
            "meaning": str(self.meaning),
            "unit": self.unit,
            "guessed": self.guessed,
            "source": self.source,
            "enabled": self.enabled,
            "hidden": self.hidden,
            "role": str(self.role),
        }

    @classmethod
    def from_dict(cls, data: object) -> FieldSpec | None:
        """Rebuild a stored spec; None for anything unusable."""
        if not isinstance(data, Mapping):
            return None
        try:
            key = data["key"]
            if not isinstance(key, str) or not key:
                return None
            spec = cls(
                key=key,
                kind=ValueKind(str(data.get("kind"))),
                meaning=Meaning(str(data.get("meaning"))),
                unit=data.get("unit") if isinstance(data.get("unit"), str) else None,
                guessed=bool(data.get("guessed", True)),
                source=str(data.get("source") or SOURCE_DECODED),
                enabled=bool(data.get("enabled", True)),
                hidden=bool(data.get("hidden", False)),
                role=Role(str(data.get("role") or Role.NONE)),
            )
        except (KeyError, ValueError):
            return None
        return spec


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldOverride:
    """What the facility manager set for one field (None: keep the guess)."""

    meaning: Meaning | None = None
    unit: str | None = None
    hidden: bool = False
    role: Role = Role.NONE

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (stored in the device's subentry)."""
        return {
            "meaning": str(self.meaning) if self.meaning else None,
            "unit": self.unit,
            "hidden": self.hidden,
            "role": str(self.role),
        }

    @classmethod
    def from_dict(cls, data: object) -> FieldOverride:
        """Rebuild a stored override; junk gives no override."""
        if not isinstance(data, Mapping):
            return cls()
        meaning = data.get("meaning")
        role = data.get("role")
        unit = data.get("unit")
        return cls(
            meaning=Meaning(str(meaning)) if meaning in set(Meaning) else None,
            unit=unit if isinstance(unit, str) and unit else None,
            hidden=data.get("hidden") is True,
            role=Role(str(role)) if role in set(Role) else Role.NONE,
        )


def parse_overrides(data: object) -> dict[str, FieldOverride]:
    """Overrides stored as ``{key: {...}}``; junk entries are dropped."""
    if not isinstance(data, Mapping):
        return {}
    return {k: FieldOverride.from_dict(v) for k, v in data.items() if isinstance(k, str)}


def effective(spec: FieldSpec, override: FieldOverride | None) -> FieldSpec:
    """The spec with the facility manager's corrections applied (no longer a guess)."""
    if override is None:
        return spec
    meaning = override.meaning or spec.meaning
    info = MEANINGS[meaning]
    kind = spec.kind if spec.kind in info.kinds else info.kinds[0]
    unit = spec.unit
    if override.unit and (not info.units or override.unit in info.units):
        unit = override.unit
    elif meaning is not spec.meaning:
        unit = _default_unit(meaning, spec.unit)
    role = override.role if override.role in info.roles else Role.NONE
    changed = override.meaning is not None or override.unit is not None
    return replace(
        spec,
        meaning=meaning,
        kind=kind,
        unit=unit,
        hidden=override.hidden,
        role=role,
        guessed=spec.guessed and not changed,
    )


def _default_unit(meaning: Meaning, current: str | None) -> str | None:
    units = MEANINGS[meaning].units
    if not units:
        return None
    return current if current in units else units[0]


# -- reading what the network server decoded -------------------------------------------


@dataclass(frozen=True, slots=True)
class Leaf:
    """One value found in a decoded object, with the unit it came with (if any)."""

    value: Any
    unit: str | None = None


def sanitise_key(parts: Sequence[str]) -> str:
    """A stable dotted key from path parts: odd characters become ``_``, length is capped."""
    cleaned = [(_KEY_CHARS.sub("_", part.strip()) or "_") for part in parts]
    return ".".join(cleaned)[:MAX_KEY_LENGTH]


def flatten(obj: object, *, limit: int = MAX_LEAVES) -> dict[str, Leaf]:
    """Leaves of a decoded object by dotted key (arrays skipped, depth and count capped).

    An object shaped ``{"unit": "°C", "value": 21}`` or ``{"unit": .., "values": [21, ..]}``
    (several vendors' decoders) is one leaf with that unit, the first value being the latest.
    """
    out: dict[str, Leaf] = {}
    if not isinstance(obj, Mapping):
        return out
    budget = [limit]

    def walk(node: Mapping[Any, Any], path: list[str], depth: int) -> None:
        for raw_key, value in node.items():
            if budget[0] <= 0:
                return
            budget[0] -= 1
            parts = [*path, str(raw_key)]
            if isinstance(value, Mapping):
                leaf = _unit_value(value)
                if leaf is not None:
                    out.setdefault(sanitise_key(parts), leaf)
                elif depth < MAX_DEPTH:
                    walk(value, parts, depth + 1)
                continue
            if value is None or isinstance(value, bool | int | float | str):
                out.setdefault(sanitise_key(parts), Leaf(value))
            # lists (history, raw bytes) and anything else are not fields

    walk(obj, [], 1)
    return out


def _unit_value(node: Mapping[Any, Any]) -> Leaf | None:
    unit = node.get("unit")
    if not isinstance(unit, str) or not ({"value", "values"} & set(node)):
        return None
    value = node.get("value")
    values = node.get("values")
    if "value" not in node and isinstance(values, list) and values:
        value = values[0]
    if value is None or isinstance(value, bool | int | float | str):
        return Leaf(value, unit)
    return None


def normalized_leaves(measurements: Sequence[object] | None) -> dict[str, Leaf] | None:
    """Leaves of a TTS ``normalized_payload`` (an array of measurements), or None if absent.

    The measurement with the latest ``time`` is used (the first when none has a time).
    Litres of ``metering.water.total`` become m³.
    """
    if not measurements:
        return None
    candidates = [m for m in measurements if isinstance(m, Mapping)]
    if not candidates:
        return None
    best = candidates[0]
    timed = [m for m in candidates if isinstance(m.get("time"), str)]
    if timed:
        best = max(timed, key=lambda m: str(m["time"]))
    leaves = {k: v for k, v in flatten(best).items() if k not in _NORMALIZED_SKIP}
    for key in _LITRES & leaves.keys():
        number = to_number(leaves[key].value)
        leaves[key] = Leaf(None if number is None else number / 1000, "m³")
    return leaves


# -- guessing ----------------------------------------------------------------------------


def name_tokens(key: str) -> list[str]:
    """Lower-case tokens of a key's last part ("TempC_SHT" → temp, c, sht)."""
    last = key.rsplit(".", 1)[-1]
    return [t for t in _SPLIT.split(_CAMEL.sub("_", last).lower()) if t]


def guess_meaning(key: str) -> Meaning | None:
    """The meaning a vendor field name suggests, or None.

    The last part of the key decides; when it says nothing ("max" in "temperature.max")
    its parent part is asked.
    """
    parts = key.split(".")
    for depth in (1, 2):
        if len(parts) < depth:
            break
        meaning = _meaning_of(name_tokens(parts[-depth]))
        if meaning is not None:
            return meaning
    return None


def _meaning_of(tokens: list[str]) -> Meaning | None:
    joined = "".join(tokens)
    candidates = {*tokens, joined, "_".join(tokens)}
    for names, meaning in _RULES:
        if names & candidates:
            if MEANINGS[meaning].units and _STATUS & candidates:
                return Meaning.NUMBER  # "Bat_status", "humidityChanged": a code, not a level
            return meaning
    return None


def _unit_from_name(tokens: list[str]) -> str | None:
    for token in reversed(tokens[1:] if len(tokens) > 1 else ()):
        unit = UNIT_ALIASES.get(token)
        if unit is not None:
            return unit
    return None


def to_number(value: object) -> float | int | None:
    """A finite number from a number or numeric text ("21.5", "1234 mm"); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 2**63 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and len(value) <= 40:
        match = _NUMBER_TEXT.match(value)
        if match:
            number = float(match.group(1))
            if math.isfinite(number):
                return int(number) if number.is_integer() and "." not in match.group(1) else number
    return None


def to_bool(value: object) -> bool | None:
    """An on/off from a bool, 0/1 or a common word ("open", "closed", "detected"); else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_TEXT:
            return True
        if text in _FALSE_TEXT:
            return False
    return None


def guess_spec(key: str, leaf: Leaf, *, source: str, plain_index: int) -> FieldSpec | None:
    """A spec for a field seen for the first time (None while its value is null)."""
    value = leaf.value
    if value is None:
        return None
    enabled = True
    if source == SOURCE_NORMALIZED and key in NORMALIZED:
        meaning, unit = NORMALIZED[key]
        kind = _kind_for(meaning, value)
        return FieldSpec(
            key=key, kind=kind, meaning=meaning, unit=unit or leaf_unit(leaf, meaning),
            guessed=False, source=source,
        )  # fmt: skip
    guessed_meaning = guess_meaning(key)
    tokens = name_tokens(key)
    unit = UNIT_ALIASES.get(leaf.unit.strip().lower()) if leaf.unit else None
    unit = unit or _unit_from_name(tokens)
    number = to_number(value)
    if isinstance(value, str) and number is not None and unit is None:
        unit = _unit_in_text(value)
    if guessed_meaning is not None:
        meaning = guessed_meaning
    elif isinstance(value, bool):
        meaning = Meaning.FLAG
    elif number is not None and not isinstance(value, str):
        meaning = Meaning.NUMBER
    else:
        meaning = Meaning.TEXT
    if isinstance(value, bool) and ValueKind.BOOL not in MEANINGS[meaning].kinds:
        meaning = Meaning.FLAG  # "lowBattery": true is an on/off, not a level
    meaning, unit = _refine(meaning, unit, value, number, tokens)
    kind = _kind_for(meaning, value)
    if meaning is Meaning.NUMBER and plain_index >= ENABLED_PLAIN:
        enabled = False
    if kind is ValueKind.TEXT and meaning not in (Meaning.TEXT,):
        meaning = Meaning.TEXT
        unit = None
    return FieldSpec(
        key=key, kind=kind, meaning=meaning, unit=unit, guessed=True, source=source,
        enabled=enabled,
    )  # fmt: skip


def leaf_unit(leaf: Leaf, meaning: Meaning) -> str | None:
    """The leaf's own unit if it is one the meaning accepts."""
    if leaf.unit is None:
        return None
    unit = UNIT_ALIASES.get(leaf.unit.strip().lower())
    return unit if unit in MEANINGS[meaning].units else None


def _unit_in_text(value: str) -> str | None:
    match = _NUMBER_TEXT.match(value)
    if match and match.group(2):
        return UNIT_ALIASES.get(match.group(2).strip().lower())
    return None


def _refine(
    meaning: Meaning, unit: str | None, value: object, number: float | None, tokens: list[str]
) -> tuple[Meaning, str | None]:
    """Settle meaning and unit from the value's magnitude where the name leaves it open."""
    if meaning is Meaning.BATTERY and number is not None:
        if unit in ("V", "mV") or _VOLTAGE_TOKENS & set(tokens):
            meaning = Meaning.BATTERY_VOLTAGE
        elif unit != "%" and number <= 5:
            return Meaning.BATTERY_VOLTAGE, "V"  # a Li cell's volts, not percent
        elif unit != "%" and number > 100:
            return Meaning.BATTERY_VOLTAGE, "mV"
        else:
            return Meaning.BATTERY, "%"
    if meaning is Meaning.BATTERY_VOLTAGE:
        if unit not in ("V", "mV"):
            unit = "mV" if "mv" in tokens or "vdd" in tokens or (number or 0) > 100 else "V"
        return meaning, unit
    if meaning is Meaning.PRESSURE and unit not in MEANINGS[meaning].units:
        return meaning, "Pa" if (number or 0) > 2000 else "hPa"
    if meaning is Meaning.WATER_VOLUME and unit not in ("m³", "L"):
        # Whole numbers are usually litres, fractions cubic metres: a guess either way.
        return meaning, "L" if isinstance(number, int) else "m³"
    if meaning is Meaning.DISTANCE and unit not in ("mm", "cm", "m"):
        return meaning, "mm"
    if meaning is Meaning.TEMPERATURE and unit not in ("°C", "°F"):
        return meaning, "°C"
    info = MEANINGS[meaning]
    if info.units and unit not in info.units:
        unit = info.units[0]
    if not info.units:
        unit = unit if meaning in (Meaning.NUMBER, Meaning.COUNTER) else None
    if (
        meaning in (Meaning.LEAK, Meaning.DOOR, Meaning.PRESENCE)
        and not isinstance(value, bool)
        and to_bool(value) is None
    ):
        return (Meaning.NUMBER, None) if number is not None else (Meaning.TEXT, None)
    return meaning, unit


def _kind_for(meaning: Meaning, value: object) -> ValueKind:
    kinds = MEANINGS[meaning].kinds
    if len(kinds) == 1:
        if kinds[0] is ValueKind.NUMBER and to_number(value) is None:
            return ValueKind.TEXT  # e.g. "No Sensor" first: a text field
        return kinds[0]
    if isinstance(value, bool) or (isinstance(value, str) and to_bool(value) is not None):
        return ValueKind.BOOL
    return ValueKind.NUMBER if to_number(value) is not None else ValueKind.BOOL


def coerce(spec: FieldSpec, value: object) -> tuple[Any, bool]:
    """The value as ``spec`` shows it, and whether it had the wrong type (then None)."""
    if value is None:
        return None, False
    if spec.kind is ValueKind.BOOL:
        flag = to_bool(value)
        return flag, flag is None
    if spec.kind is ValueKind.NUMBER:
        number = to_number(value)
        return number, number is None
    if isinstance(value, bool | int | float):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        return text[:MAX_TEXT_LENGTH], False
    if isinstance(value, str):
        return value[:MAX_TEXT_LENGTH], False
    return None, True


# -- the device's generic state -------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class GenericState:
    """What a generic device learned: its fields, its rhythm, what went wrong (persisted)."""

    fields: dict[str, FieldSpec] = field(default_factory=dict)
    source: str | None = None  # SOURCE_NORMALIZED once normalized payloads were seen
    type_changes: dict[str, int] = field(default_factory=dict)
    dropped: int = 0  # fields ignored beyond MAX_FIELDS
    without_object: int = 0  # uplinks the network server did not decode
    with_object: int = 0
    warnings: tuple[str, ...] = ()  # the latest decoder warnings
    times: list[datetime] = field(default_factory=list)  # first uplink times
    learned_interval_s: int | None = None

    @property
    def no_codec(self) -> bool:
        """The network server never decoded an uplink of this device."""
        return self.without_object > 0 and self.with_object == 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot."""
        return {
            "fields": [spec.as_dict() for spec in self.fields.values()],
            "source": self.source,
            "type_changes": dict(self.type_changes),
            "dropped": self.dropped,
            "without_object": self.without_object,
            "with_object": self.with_object,
            "warnings": list(self.warnings),
            "times": [t.isoformat() for t in self.times],
            "learned_interval_s": self.learned_interval_s,
        }

    @classmethod
    def from_dict(cls, data: object) -> GenericState:
        """Rebuild a snapshot; tolerant of junk."""
        state = cls()
        if not isinstance(data, Mapping):
            return state
        raw_fields = data.get("fields")
        if isinstance(raw_fields, list):
            for raw in raw_fields[:MAX_FIELDS]:
                spec = FieldSpec.from_dict(raw)
                if spec is not None:
                    state.fields.setdefault(spec.key, spec)
        source = data.get("source")
        state.source = source if source in (SOURCE_NORMALIZED, SOURCE_DECODED) else None
        changes = data.get("type_changes")
        if isinstance(changes, Mapping):
            state.type_changes = {
                str(k): v for k, v in changes.items() if isinstance(v, int) and v > 0
            }
        for name in ("dropped", "without_object", "with_object"):
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                setattr(state, name, value)
        warnings = data.get("warnings")
        if isinstance(warnings, list):
            state.warnings = tuple(str(w)[:200] for w in warnings[:5])
        times = data.get("times")
        if isinstance(times, list):
            for raw in times[:INTERVAL_SAMPLES]:
                if isinstance(raw, str):
                    try:
                        parsed = datetime.fromisoformat(raw)
                    except ValueError:
                        continue
                    if parsed.tzinfo is not None:
                        state.times.append(parsed)
        interval = data.get("learned_interval_s")
        if isinstance(interval, int) and not isinstance(interval, bool) and interval > 0:
            state.learned_interval_s = interval
        return state


@dataclass(slots=True)
class GenericResult:
    """What one uplink did to a generic device."""

    values: dict[str, Any]  # VALUE_PREFIX + key -> shown value
    canonical: dict[str, Any]  # canonical fields of the chosen roles (care, water, snow)
    new_fields: list[str]  # keys seen for the first time
    type_changed: list[str]  # keys whose value had the wrong type (first time each)
    capped: bool = False  # MAX_FIELDS reached by this uplink (first time only)
    no_object: bool = False  # the network server sent no decoded object


def value_key(key: str) -> str:
    """The device-state key of a generic field's value."""
    return VALUE_PREFIX + key


def leaves_of(
    obj: Mapping[str, Any] | None, normalized: Sequence[object] | None
) -> tuple[str, dict[str, Leaf]] | None:
    """(source, leaves) of one uplink: normalized first, else the decoded object."""
    leaves = normalized_leaves(normalized)
    if leaves:
        return SOURCE_NORMALIZED, leaves
    if isinstance(obj, Mapping):
        return SOURCE_DECODED, flatten(obj)
    return None


def apply(
    state: GenericState,
    overrides: Mapping[str, FieldOverride],
    obj: Mapping[str, Any] | None,
    normalized: Sequence[object] | None,
    *,
    received_at: datetime | None = None,
    warnings: Iterable[str] = (),
) -> GenericResult:
    """Learn new fields from one uplink and return the typed values it carries."""
    result = GenericResult(values={}, canonical={}, new_fields=[], type_changed=[])
    if received_at is not None:
        _learn_interval(state, received_at)
    found = leaves_of(obj, normalized)
    state.warnings = tuple(str(w)[:200] for w in list(warnings)[:5])
    if found is None:
        state.without_object += 1
        result.no_object = True
        return result
    source, leaves = found
    state.with_object += 1
    if source == SOURCE_NORMALIZED:
        state.source = SOURCE_NORMALIZED
    elif state.source == SOURCE_NORMALIZED:
        # This device's fields are its normalized ones: a decoded-only uplink would add a
        # second set of entities for the same measurements.
        return result
    plain = sum(1 for s in state.fields.values() if s.meaning is Meaning.NUMBER)
    for key, leaf in leaves.items():
        spec = state.fields.get(key)
        if spec is None:
            if len(state.fields) >= MAX_FIELDS:
                if state.dropped == 0:
                    result.capped = True
                state.dropped += 1
                continue
            spec = guess_spec(key, leaf, source=source, plain_index=plain)
            if spec is None:
                continue  # null on first sight: learned when it has a value
            if spec.meaning is Meaning.NUMBER:
                plain += 1
            state.fields[key] = spec
            result.new_fields.append(key)
        shown = effective(spec, overrides.get(key))
        value, wrong = coerce(shown, leaf.value)
        if wrong:
            if key not in state.type_changes:
                result.type_changed.append(key)
            state.type_changes[key] = state.type_changes.get(key, 0) + 1
        result.values[value_key(key)] = value
        if value is not None and shown.role is not Role.NONE:
            result.canonical.update(canonical_fields(shown, value))
    return result


def canonical_fields(spec: FieldSpec, value: Any) -> dict[str, Any]:
    """The canonical fields (payloads.md) a field with a role feeds to care, water or snow."""
    if spec.role is Role.ACTIVITY:
        if spec.meaning is Meaning.MOTION:
            if isinstance(value, bool):
                return {"motion_count": 1 if value else 0}
            return {"motion_count": max(0, int(value))}
        if spec.meaning is Meaning.OCCUPANCY:
            if isinstance(value, bool):
                return {"presence": value}
            return {"occupancy": max(0, int(value))}
        if spec.meaning is Meaning.PRESENCE:
            return {"presence": bool(value)}
        if spec.meaning is Meaning.DOOR:
            return {"door": bool(value)}
    if spec.role is Role.WATER_VOLUME and isinstance(value, int | float):
        factor = {"m³": 1.0, "L": 0.001}.get(spec.unit or "m³")
        if factor is not None and value >= 0:
            return {"volume": round(float(value) * factor, 6)}
    if spec.role is Role.WATER_LEAK and isinstance(value, bool):
        return {"leak": value}
    if spec.role is Role.SNOW_DISTANCE and isinstance(value, int | float):
        factor = {"mm": 1.0, "cm": 10.0, "m": 1000.0}.get(spec.unit or "mm")
        if factor is not None:
            return {"distance": round(float(value) * factor)}
    return {}


def _learn_interval(state: GenericState, received_at: datetime) -> None:
    """Keep the first uplink times; the median spacing becomes the learned interval."""
    if state.learned_interval_s is not None or len(state.times) >= INTERVAL_SAMPLES:
        return
    if state.times and received_at <= state.times[-1]:
        return
    state.times.append(received_at)
    if len(state.times) < 3:
        return
    gaps = [(b - a).total_seconds() for a, b in zip(state.times, state.times[1:], strict=False)]
    gaps = [g for g in gaps if g >= MIN_INTERVAL_S]
    if len(gaps) >= 2:
        state.learned_interval_s = int(round(median(gaps) / 60) * 60) or MIN_INTERVAL_S


def effective_fields(
    state: GenericState, overrides: Mapping[str, FieldOverride]
) -> dict[str, FieldSpec]:
    """Every learned field with the facility manager's corrections applied."""
    return {key: effective(spec, overrides.get(key)) for key, spec in state.fields.items()}


def roles_of(state: GenericState, overrides: Mapping[str, FieldOverride]) -> frozenset[Role]:
    """The roles a device's fields serve."""
    return frozenset(
        spec.role
        for spec in effective_fields(state, overrides).values()
        if spec.role is not Role.NONE and not spec.hidden
    )


def preview(
    obj: Mapping[str, Any] | None, normalized: Sequence[object] | None
) -> list[tuple[FieldSpec, Any]]:
    """Fields and typed values a new generic device would get from one uplink."""
    state = GenericState()
    result = apply(state, {}, obj, normalized)
    return [(spec, result.values.get(value_key(key))) for key, spec in state.fields.items()]
