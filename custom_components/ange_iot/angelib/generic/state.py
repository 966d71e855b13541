"""A generic device's learned state and what one uplink does to it (``apply``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from .fields import FieldOverride, FieldSpec, effective
from .guess import Leaf, coerce, flatten, guess_spec, normalized_leaves
from .meanings import (
    INTERVAL_SAMPLES,
    MAX_FIELDS,
    MIN_INTERVAL_S,
    SOURCE_DECODED,
    SOURCE_NORMALIZED,
    VALUE_PREFIX,
    Meaning,
    Role,
)


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
