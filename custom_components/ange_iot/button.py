"""Button platform of Ånge IoT: each entry's button entities come from its wing."""

from __future__ import annotations

from .building import button as building_button
from .entries import platform_dispatcher
from .gateway import button as gateway_button

PARALLEL_UPDATES = 1

async_setup_entry = platform_dispatcher(
    building_button.async_setup_entry, gateway_button.async_setup_entry
)
