"""Constants of the Ånge IoT integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "ange_iot"
LOGGER = logging.getLogger(__package__)

CONF_GATEWAY: Final = "gateway"
GATEWAY_SIMULATED: Final = "simulated"
GATEWAY_CHIRPSTACK_MQTT: Final = "chirpstack_mqtt"
GATEWAY_CHIRPSTACK_HTTP: Final = "chirpstack_http"
GATEWAY_TTS_WEBHOOK: Final = "tts_webhook"
GATEWAY_TTS_MQTT: Final = "tts_mqtt"
GATEWAYS: Final = (
    GATEWAY_SIMULATED,
    GATEWAY_CHIRPSTACK_MQTT,
    GATEWAY_CHIRPSTACK_HTTP,
    GATEWAY_TTS_WEBHOOK,
    GATEWAY_TTS_MQTT,
)

# Real gateways
CONF_SILENCE_LIMIT: Final = "silence_limit"  # minutes without any message -> repair issue
DEFAULT_SILENCE_LIMIT_MIN: Final = 60
CONF_TOPIC_TEMPLATE: Final = "topic_template"  # ChirpStack MQTT event topic
CONF_APPLICATION_ID: Final = "application_id"  # filter (ChirpStack) / app id (TTS)
CONF_TENANT: Final = "tenant"  # TTS tenant ("ttn" on The Things Network; empty: open source)
CONF_WEBHOOK_ID: Final = "webhook_id"
CONF_SECRET: Final = "secret"  # shared secret a webhook call carries in SECRET_HEADER
SECRET_HEADER: Final = "X-Ange-Secret"
CONF_BACKFILL: Final = "backfill"  # TTS storage integration enabled
CONF_HOST: Final = "host"  # TTS cluster host, e.g. eu1.cloud.thethings.network
CONF_API_KEY: Final = "api_key"
MAX_BODY_BYTES: Final = 64 * 1024

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
# Generic devices (decoded by the network server)
CONF_FIELDS: Final = "fields"  # the facility manager's corrections per field key
CONF_MODEL_TEXT: Final = "model_text"  # suggested model text (the LNS profile name)
CONF_SEEN_FIELDS: Final = "seen_fields"  # fields seen in the discovering uplink (seed)

STORAGE_VERSION: Final = 1
SAVE_DELAY_S: Final = 5  # the most applied state a crash can lose (README: Storage)

SERVICE_SET_SCENARIO: Final = "set_scenario"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_SCENARIO: Final = "scenario"
ATTR_TARGET: Final = "target"
ATTR_DEVICE: Final = "device"  # set_scenario: the picked device (apartment, sensor, meter)
ATTR_ACTIVE: Final = "active"

# Buildings (care checks); a building is its own entry, apartments its subentries
CONF_KIND: Final = "kind"
KIND_BUILDING: Final = "building"
SUBENTRY_APARTMENT: Final = "apartment"
CONF_LABEL: Final = "label"  # "Lgh 1101": no resident names
CONF_SENSORS: Final = "sensors"  # DevEUIs the apartment's checks depend on
ATTR_APARTMENT: Final = "apartment"
ATTR_UNTIL: Final = "until"
ATTR_ALERT_ID: Final = "alert_id"
ATTR_USER_ID: Final = "user_id"  # acknowledge: who pressed (an automation has no user)
SERVICE_ACKNOWLEDGE: Final = "acknowledge_care_check"
SERVICE_PAUSE: Final = "pause_care_checks"
SERVICE_RESUME: Final = "resume_care_checks"
SERVICE_ARM_ESCALATION: Final = "arm_escalation"
ATTR_DELAY: Final = "delay"
SERVICE_CARE_FOLLOWUP: Final = "care_followup"
ATTR_BUILDING: Final = "building"  # a building's config entry id
ATTR_START: Final = "start"
ATTR_END: Final = "end"
EVENT_CARE_LOG: Final = "ange_iot_care_log"  # logbook: care alerts, acknowledgements, pauses
EVENT_METER_LOG: Final = "ange_iot_meter_log"  # logbook: meter alerts started and over


# Water meters of a building (subentries) and the building's water defaults (options)
SUBENTRY_WATER_METER: Final = "water_meter"
CONF_COUNTED: Final = "counted"  # part of the building's total consumption
CONF_CONTINUOUS: Final = "continuous_by_design"  # cooling, irrigation: no continuous-flow alert
CONF_NIGHT_FLOW: Final = "night_flow_lph"
CONF_HIGH_USE_FACTOR: Final = "high_use_factor"
CONF_DAILY_LIMIT: Final = "daily_limit_l"
CONF_SILENT_HOURS: Final = "silent_hours"
CONF_WATER_NIGHT_START: Final = "water_night_start"
CONF_WATER_NIGHT_END: Final = "water_night_end"
CONF_WATER_NIGHT_CHECK: Final = "water_night_check"
METER_ALERT_STARTED: Final = "alert_started"
METER_ALERT_CLEARED: Final = "alert_cleared"
METER_ALERT_ACKNOWLEDGED: Final = "alert_acknowledged"  # someone took a meter alert
METER_ALERT_REMINDER: Final = "reminder"  # an open alert nobody took, again
METER_ALERT_ESCALATED: Final = "escalated"  # an open alert nobody took in time
# Building options (the care checks have their own ``reminder_interval``).
CONF_METER_REMINDER: Final = "meter_reminder_interval"
CONF_METER_ESCALATION: Final = "meter_escalation_delay"
SERVICE_ACKNOWLEDGE_METER: Final = "acknowledge_meter_alert"

# Snow-clearing sites of a building (subentries): a lot or a named area
SUBENTRY_SNOW_SITE: Final = "snow_site"
CONF_SITE_NAME: Final = "name"
CONF_THRESHOLD: Final = "threshold_cm"
CONF_MIN_RISE: Final = "min_rise_cm"
