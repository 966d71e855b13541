"""Repair flows: notices the user reads and confirms."""

from __future__ import annotations

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """A lost care state cannot be restored: the user confirms having read what was lost."""
    return ConfirmRepairFlow()
