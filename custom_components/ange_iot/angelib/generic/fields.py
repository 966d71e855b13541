"""A generic device's field: its spec, the facility manager's override, the two combined."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .meanings import MEANINGS, SOURCE_DECODED, Meaning, MeaningInfo, Role, ValueKind


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
