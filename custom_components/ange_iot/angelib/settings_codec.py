"""One way to store and read the engines' settings (care, water meters, snow).

A settings object is a frozen dataclass whose fields are plain values. Stored, it is a JSON
object with one key per field: a time of day as ``"HH:MM"`` (``"HH:MM:SS"`` when it has
seconds), a duration as whole seconds, everything else as it is. Read back, each field is
parsed by its declared type, so a value may also come the way a form gives it: a ``time``
or ``"HH:MM[:SS]"``, a ``timedelta``, seconds or a duration selector's mapping. Missing and
``None`` keys keep the base's value; unknown keys are ignored; a bad value raises
``ValueError`` naming its key. The settings class still checks its own rules (ranges,
orders) in ``__post_init__``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from datetime import time, timedelta
from functools import cache
import types
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

from .values import is_number, parse_duration, parse_time

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Parser = Callable[[object], object]


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _number(value: object) -> float:
    if not is_number(value):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


PARSERS: Mapping[type, Parser] = {
    bool: _boolean,
    str: _string,
    float: _number,
    time: parse_time,
    timedelta: parse_duration,
}


def settings_as_dict(settings: DataclassInstance) -> dict[str, Any]:
    """JSON-safe: times as ``HH:MM[:SS]``, durations as whole seconds, the rest as is."""
    out: dict[str, Any] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, time):
            out[f.name] = value.isoformat(timespec="seconds" if value.second else "minutes")
        elif isinstance(value, timedelta):
            out[f.name] = round(value.total_seconds())
        else:
            out[f.name] = value
    return out


def settings_from_dict[S: DataclassInstance](
    cls: type[S],
    data: Mapping[str, Any],
    base: S | None = None,
    *,
    parsers: Mapping[type, Parser] | None = None,
) -> S:
    """Settings from ``data`` on top of ``base`` (``cls()`` when none).

    ``parsers`` replaces the parser of a field type (snow takes ``"7,5"`` as a number).
    """
    chosen = {**PARSERS, **(parsers or {})}
    current = base if base is not None else cls()
    changes: dict[str, Any] = {}
    for name, kind in _field_types(cls):
        value = data.get(name)
        if value is None:
            continue
        try:
            changes[name] = chosen[kind](value)
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from err
    return replace(current, **changes)


@cache
def _field_types(cls: type[DataclassInstance]) -> tuple[tuple[str, type], ...]:
    """Each field's name and value type (``float | None`` is ``float``)."""
    hints = get_type_hints(cls)
    out: list[tuple[str, type]] = []
    for f in fields(cls):
        hint = hints[f.name]
        if get_origin(hint) in (Union, types.UnionType):
            (hint,) = (arg for arg in get_args(hint) if arg is not type(None))
        out.append((f.name, hint))
    return tuple(out)
