"""Event platform of Ånge IoT: each entry's event entities come from its wing."""

from __future__ import annotations

from .building import event as building_event
from .entries import platform_dispatcher

PARALLEL_UPDATES = 0

async_setup_entry = platform_dispatcher(building_event.async_setup_entry, None)
