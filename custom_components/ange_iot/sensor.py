"""Sensor platform of Ånge IoT: each entry's sensor entities come from its wing."""

from __future__ import annotations

from .building import sensor as building_sensor
from .entries import platform_dispatcher
from .gateway import sensor as gateway_sensor

PARALLEL_UPDATES = 0

async_setup_entry = platform_dispatcher(
    building_sensor.async_setup_entry, gateway_sensor.async_setup_entry
)
