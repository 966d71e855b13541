"""Constants of the Ånge IoT integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "ange_iot"
LOGGER = logging.getLogger(__package__)

CONF_GATEWAY: Final = "gateway"
GATEWAY_SIMULATED: Final = "simulated"

# Simulated gateway
CONF_SPEED: Final = "speed"
CONF_SEED: Final = "seed"
CONF_EPOCH: Final = "epoch"  # ISO time the simulated site began; meter registers count from it
CONF_RESIDENT_NOT_UP: Final = "resident_not_up"
CONF_SILENT_DEVICE: Final = "silent_device"
CONF_LEAKING_METER: Final = "leaking_meter"
CONF_SNOWFALL: Final = "snowfall"
DEFAULT_SPEED: Final = 1
DEFAULT_SEED: Final = 2026
SPEEDS: Final = ("1", "10", "60", "360")
NONE_OPTION: Final = "none"

# Device subentries
SUBENTRY_DEVICE: Final = "device"
CONF_DEV_EUI: Final = "dev_eui"
CONF_MODEL: Final = "model"
CONF_REPORT_INTERVAL: Final = "report_interval"  # minutes in the UI, seconds stored
CONF_MISSED_REPORTS: Final = "missed_reports"
CONF_INVERT_DOOR: Final = "invert_door"
CONF_MOUNTING_HEIGHT: Final = "mounting_height"  # mm
CONF_AREA: Final = "area"

STORAGE_VERSION: Final = 1
SAVE_DELAY_S: Final = 15

SERVICE_SET_SCENARIO: Final = "set_scenario"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_SCENARIO: Final = "scenario"
ATTR_TARGET: Final = "target"
ATTR_ACTIVE: Final = "active"
