"""Switch platform of Ånge IoT: each entry's switch entities come from its wing."""

from __future__ import annotations

from .building import switch as building_switch
from .entries import platform_dispatcher

PARALLEL_UPDATES = 0

async_setup_entry = platform_dispatcher(building_switch.async_setup_entry, None)
