"""Snow clearing ("snöröjning") for a site: a pure, hysteresis-based rule engine.

A site (a parking lot, a yard) has one or more snow-depth sensors. The Home Assistant layer
takes the depths of the sensors available now, folds them into one site depth with
``site_depth``, and calls ``update`` whenever that changes; ``update`` returns an event when
the site needs clearing or is clear again. The layer persists ``SiteState`` (``as_dict``/
``from_dict``) and turns the returned ``SnowEvent`` into an event. Nothing in here reads the
clock.

The rules (depths in cm, ``threshold`` and ``min_rise`` from ``SnowSettings``):

* **Clear** (the start): the *baseline* is the depth left after the last clearing. While the
  site is clear it follows the lowest depth seen (snow that melts or settles lowers it); it
  starts at 0, so a lot that is already deep when watching begins needs clearing at once.
* **Clearing needed**, once: when ``depth >= threshold`` and ``depth - baseline >= min_rise``.
  The rise guards against compacted residue: a lot ploughed down to a 6 cm icy crust with a
  threshold of 8 cm and a rise of 5 cm needs clearing again at 11 cm, not at 8.
* **Cleared**, once: while clearing is needed the *peak* follows the deepest depth; the site
  is clear again when ``depth < threshold`` and ``depth <= peak - min_rise`` (ploughed, or
  melted). Noise around the threshold never flaps: going back below the threshold is not
  enough, the depth must also have dropped by the rise. The depth then becomes the baseline.
* No depth (no sensor available) changes nothing: not the state, not the last depth.
* A negative depth (a distance sensor reading a little more than its calibrated ground) counts
  as 0 cm; a depth that is not a finite number is treated as no depth.

Event times (``SnowEvent.since``): the time of the ``update`` that made the change, so a
``clearing_needed`` event's ``since`` is also ``SiteState.since`` until the site is cleared.
``baseline_cm`` is the baseline the rise was measured from (``clearing_needed``) or the new
baseline, the depth left (``cleared``); ``peak_cm`` is the deepest depth of the episode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
import math
from typing import Any

from .errors import SettingsError
from .settings_codec import settings_as_dict, settings_from_dict
from .values import is_number as _is_number, iso as _iso, parse_when as _when, utc as _utc

MAX_THRESHOLD_CM = 500.0


def _number(value: object) -> float | None:
    """A finite float from a number or a numeric string; ``None`` otherwise."""
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SnowSettings:
    """Snow-clearing settings of one site (or the defaults)."""

    threshold_cm: float = 8.0  # clearing needed from this depth ...
    min_rise_cm: float = 5.0  # ... and at least this much above the depth left after clearing

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, with a message a user understands."""
        for f in fields(self):
            value = getattr(self, f.name)
            if not _is_number(value) or not math.isfinite(value):
                raise ValueError(f"{f.name}: expected a number of centimetres, got {value!r}")
        if self.threshold_cm <= 0:
            raise SettingsError(
                "threshold_range",
                f"threshold_cm: the snow depth that needs clearing must be above 0 cm "
                f"(got {self.threshold_cm:g})",
                high=f"{MAX_THRESHOLD_CM:g}",
            )
        if self.threshold_cm > MAX_THRESHOLD_CM:
            raise SettingsError(
                "threshold_range",
                f"threshold_cm: the snow depth that needs clearing must be at most "
                f"{MAX_THRESHOLD_CM:g} cm (got {self.threshold_cm:g})",
                high=f"{MAX_THRESHOLD_CM:g}",
            )
        if self.min_rise_cm < 0:
            raise SettingsError(
                "min_rise_negative",
                f"min_rise_cm: the rise since the last clearing must not be negative "
                f"(got {self.min_rise_cm:g})",
            )

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe."""
        return settings_as_dict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], base: SnowSettings | None = None) -> SnowSettings:
        """Settings from ``values`` on top of ``base`` (missing or ``None`` keys kept).

        Values may be numbers or numeric strings. Raises ``ValueError`` naming the bad key.
        """
        return settings_from_dict(cls, values, base, parsers={float: _centimetres})


def _centimetres(value: object) -> float:
    number = _number(value)
    if number is None:
        raise ValueError(f"expected a number of centimetres, got {value!r}")
    return number


DEFAULT_SETTINGS = SnowSettings()


class SnowEventType(StrEnum):
    """A site's snow-clearing events."""

    CLEARING_NEEDED = "clearing_needed"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class SnowEvent:
    """A change of a site's clearing status."""

    type: SnowEventType
    depth_cm: float
    since: datetime
    threshold_cm: float
    baseline_cm: float
    peak_cm: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: the event data of the site's event entity."""
        return {
            "type": str(self.type),
            "depth_cm": self.depth_cm,
            "since": self.since.isoformat(),
            "threshold_cm": self.threshold_cm,
            "baseline_cm": self.baseline_cm,
            "peak_cm": self.peak_cm,
        }


@dataclass(slots=True)
class SiteState:
    """What the engine remembers about one site (persist with ``as_dict``)."""

    needs_clearing: bool = False
    since: datetime | None = None  # when clearing became needed
    baseline_cm: float = 0.0  # depth left after the last clearing (lowest depth while clear)
    peak_cm: float | None = None  # deepest since clearing became needed
    depth_cm: float | None = None  # last site depth
    updated: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot for ``Store``."""
        return {
            "needs_clearing": self.needs_clearing,
            "since": _iso(self.since),
            "baseline_cm": self.baseline_cm,
            "peak_cm": self.peak_cm,
            "depth_cm": self.depth_cm,
            "updated": _iso(self.updated),
        }

    @classmethod
    def from_dict(cls, data: object) -> SiteState:
        """Rebuild a snapshot written by ``as_dict``; anything unusable falls back to empty."""
        if not isinstance(data, Mapping):
            return cls()
        needs = data.get("needs_clearing") is True
        baseline = _depth(data.get("baseline_cm"))
        depth = _depth(data.get("depth_cm"))
        peak = _depth(data.get("peak_cm")) if needs else None
        if needs:
            known = [d for d in (peak, depth) if d is not None]
            peak = max(known) if known else None
        return cls(
            needs_clearing=needs,
            since=_when(data.get("since")) if needs else None,
            baseline_cm=baseline if baseline is not None else 0.0,
            peak_cm=peak,
            depth_cm=depth,
            updated=_when(data.get("updated")),
        )


def site_depth(depths: Sequence[float]) -> float | None:
    """The site's depth: the mean of the available sensors' depths, to 0.1 cm.

    ``None`` when no sensor has a depth (values that are not finite numbers are skipped).
    """
    known = [float(d) for d in depths if _is_number(d) and math.isfinite(d)]
    if not known:
        return None
    return round(math.fsum(known) / len(known), 1) + 0.0  # + 0.0: never -0.0


def update(
    state: SiteState, settings: SnowSettings, depth_cm: float | None, at: datetime
) -> SnowEvent | None:
    """Apply the site depth at ``at`` to ``state``; the event it causes, if any.

    ``at`` must be timezone-aware. See the module docstring for the rules.
    """
    at = _utc(at)
    if depth_cm is None or not _is_number(depth_cm) or not math.isfinite(depth_cm):
        return None
    depth = max(float(depth_cm), 0.0)
    state.depth_cm = depth
    state.updated = at
    threshold, rise = settings.threshold_cm, settings.min_rise_cm

    if not state.needs_clearing:
        state.baseline_cm = min(state.baseline_cm, depth)
        if depth >= threshold and depth - state.baseline_cm >= rise:
            state.needs_clearing = True
            state.since = at
            state.peak_cm = depth
            return SnowEvent(
                SnowEventType.CLEARING_NEEDED,
                depth_cm=depth,
                since=at,
                threshold_cm=threshold,
                baseline_cm=state.baseline_cm,
                peak_cm=depth,
            )
        return None

    peak = depth if state.peak_cm is None else max(state.peak_cm, depth)
    state.peak_cm = peak
    if depth < threshold and depth <= peak - rise:
        state.needs_clearing = False
        state.since = None
        state.peak_cm = None
        state.baseline_cm = depth
        return SnowEvent(
            SnowEventType.CLEARED,
            depth_cm=depth,
            since=at,
            threshold_cm=threshold,
            baseline_cm=depth,
            peak_cm=peak,
        )
    return None


# -- helpers -------------------------------------------------------------------------


def _depth(value: object) -> float | None:
    """A stored depth: a finite, non-negative number, else ``None``."""
    if not _is_number(value):
        return None
    number = float(value)
    return max(number, 0.0) if math.isfinite(number) else None
