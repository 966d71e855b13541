"""Binary sensor platform of Ånge IoT: each entry's binary sensor entities come from its wing."""

from __future__ import annotations

from .building import binary_sensor as building_binary_sensor
from .entries import platform_dispatcher
from .gateway import binary_sensor as gateway_binary_sensor

PARALLEL_UPDATES = 0

async_setup_entry = platform_dispatcher(
    building_binary_sensor.async_setup_entry, gateway_binary_sensor.async_setup_entry
)
