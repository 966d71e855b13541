"""Repair flows: notices the user reads and confirms, or fixes.

- A meter whose reading went backwards (``gateway/reading_backwards.py``): confirming the
  fix accepts the lower reading as the new baseline (the meter was replaced), as the
  meter's "Accept new reading" button does.
- Anything else (the lost care state): the user confirms having read what was lost.
"""

from __future__ import annotations

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.components.repairs.models import RepairsFlowResult
from homeassistant.core import HomeAssistant

from .entries import is_gateway
from .gateway.reading_backwards import ISSUE_PREFIX


class AcceptReadingRepairFlow(ConfirmRepairFlow):
    """Accept a meter's lower reading: the meter was replaced."""

    def __init__(self, entry_id: str, dev_eui: str) -> None:
        """Bind to the meter's gateway entry and DevEUI."""
        super().__init__()
        self.entry_id = entry_id
        self.dev_eui = dev_eui

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Show the meter's readings; on confirm, take the lower one as its new reading."""
        if user_input is None:
            return await super().async_step_confirm(None)
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or not is_gateway(entry) or not hasattr(entry, "runtime_data"):
            return self.async_abort(reason="gateway_not_loaded")
        hub = entry.runtime_data
        if hub.tracked(self.dev_eui) is None:
            return self.async_abort(reason="gateway_not_loaded")
        hub.async_accept_volume(self.dev_eui)
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The flow of one of our repair issues."""
    if issue_id.startswith(ISSUE_PREFIX) and data is not None:
        return AcceptReadingRepairFlow(str(data["entry_id"]), str(data["dev_eui"]))
    return ConfirmRepairFlow()
