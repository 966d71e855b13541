"""Reading what the network server decoded: leaves, name tokens, guessed specs, coercion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
import re
from typing import Any

from .fields import FieldSpec
from .meanings import (
    _LITRES,
    _NORMALIZED_SKIP,
    _RULES,
    ENABLED_PLAIN,
    MAX_DEPTH,
    MAX_KEY_LENGTH,
    MAX_LEAVES,
    MAX_TEXT_LENGTH,
    MEANINGS,
    NORMALIZED,
    SOURCE_NORMALIZED,
    UNIT_ALIASES,
    Meaning,
    ValueKind,
)

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
