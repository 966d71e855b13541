"""A meter whose reading went backwards: a repair issue that asks whether it was replaced.

The lower reading is held back (never counted as negative consumption) and the meter's
"Meter problem" lists it. The issue's fix flow (``repairs.py``) accepts the new reading
when the meter was replaced; a normal reading again (a glitch) clears it by itself.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..angelib.pipeline import TrackedDevice
from ..const import DOMAIN

ISSUE_PREFIX = "meter_reading_backwards_"


def issue_id(dev_eui: str) -> str:
    """The repair issue of one meter."""
    return f"{ISSUE_PREFIX}{dev_eui}"


@callback
def async_raise_reading_backwards(
    hass: HomeAssistant, entry_id: str, tracked: TrackedDevice, rejected: float
) -> None:
    """Ask (in Settings › Repairs) whether the meter was replaced."""
    previous = tracked.state.values.get("volume")
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(tracked.config.dev_eui),
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="meter_reading_backwards",
        translation_placeholders={
            "meter": tracked.config.name,
            "reading": f"{rejected:.3f}",
            "previous": f"{previous:.3f}" if isinstance(previous, int | float) else "-",
        },
        data={"entry_id": entry_id, "dev_eui": tracked.config.dev_eui},
    )


@callback
def async_clear_reading_backwards(hass: HomeAssistant, dev_eui: str) -> None:
    """The reading was accepted, or the meter reports normally again."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(dev_eui))
