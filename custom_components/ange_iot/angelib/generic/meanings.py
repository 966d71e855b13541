"""What a generic device's field can mean: enums, limits and the lookup tables.

The facts (``MEANINGS``, ``NORMALIZED``) and the vendor-name guesses (``_RULES``) that
``guess`` reads; no logic lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GENERIC_MODEL_ID = "generic"
GENERIC_CODEC = "lns"
MAX_FIELDS = 64  # fields tracked per device; more are ignored (logged once)
ENABLED_PLAIN = 8  # plain numeric fields beyond this many start disabled
MAX_DEPTH = 6  # nesting levels flattened
MAX_LEAVES = 512  # leaves looked at per uplink (a huge object is cut, not walked)
MAX_KEY_LENGTH = 80
MAX_TEXT_LENGTH = 255  # HA's state length limit
INTERVAL_SAMPLES = 5  # uplink times kept to learn the report interval
MIN_INTERVAL_S = 60

SOURCE_NORMALIZED = "normalized"
SOURCE_DECODED = "decoded"
VALUE_PREFIX = "lns:"  # device-state keys of generic field values (never a canonical name)


class Meaning(StrEnum):
    """What a field measures; the HA layer maps each to a device class and translation."""

    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    PRESSURE = "pressure"
    CO2 = "co2"
    ILLUMINANCE = "illuminance"
    BATTERY = "battery"  # percent
    BATTERY_VOLTAGE = "battery_voltage"
    DISTANCE = "distance"
    WATER_VOLUME = "water_volume"
    MOTION = "motion"  # detected (on/off) or a count of triggers
    OCCUPANCY = "occupancy"  # occupied (on/off) or a number of people
    PRESENCE = "presence"
    DOOR = "door"  # door/window contact, on = open
    LEAK = "leak"
    COUNTER = "counter"  # a count that only grows (or resets)
    NUMBER = "number"  # a plain number of unknown meaning
    TEXT = "text"
    FLAG = "flag"  # a plain on/off of unknown meaning


class ValueKind(StrEnum):
    """The entity type a field gets (fixed when the field is first seen)."""

    NUMBER = "number"
    TEXT = "text"
    BOOL = "bool"


class Role(StrEnum):
    """What a field does beyond its own entity (chosen by the facility manager)."""

    NONE = "none"
    ACTIVITY = "activity"  # an apartment's activity sensor (care checks)
    WATER_VOLUME = "water_volume"  # a building's water meter register
    WATER_LEAK = "water_leak"  # the meter's leak alarm
    SNOW_DISTANCE = "snow_distance"  # a snow-site distance sensor (with a mounting height)


@dataclass(frozen=True, slots=True)
class MeaningInfo:
    """Facts about a meaning: value kinds, units, device and state class (HA's values)."""

    kinds: tuple[ValueKind, ...]
    units: tuple[str, ...] = ()  # accepted units, the first is the default
    device_class: str | None = None
    state_class: str | None = None
    roles: tuple[Role, ...] = ()


_NUM = (ValueKind.NUMBER,)
_BOOL = (ValueKind.BOOL,)
MEANINGS: dict[Meaning, MeaningInfo] = {
    Meaning.TEMPERATURE: MeaningInfo(_NUM, ("°C", "°F"), "temperature", "measurement"),
    Meaning.HUMIDITY: MeaningInfo(_NUM, ("%",), "humidity", "measurement"),
    Meaning.PRESSURE: MeaningInfo(
        _NUM, ("hPa", "Pa", "kPa", "mbar", "bar"), "atmospheric_pressure", "measurement"
    ),
    Meaning.CO2: MeaningInfo(_NUM, ("ppm",), "carbon_dioxide", "measurement"),
    Meaning.ILLUMINANCE: MeaningInfo(_NUM, ("lx",), "illuminance", "measurement"),
    Meaning.BATTERY: MeaningInfo(_NUM, ("%",), "battery", "measurement"),
    Meaning.BATTERY_VOLTAGE: MeaningInfo(_NUM, ("V", "mV"), "voltage", "measurement"),
    Meaning.DISTANCE: MeaningInfo(
        _NUM, ("mm", "cm", "m"), "distance", "measurement", (Role.SNOW_DISTANCE,)
    ),
    Meaning.WATER_VOLUME: MeaningInfo(
        _NUM, ("m³", "L"), "water", "total_increasing", (Role.WATER_VOLUME,)
    ),
    Meaning.MOTION: MeaningInfo((ValueKind.BOOL, ValueKind.NUMBER), (), "motion", None,
                                (Role.ACTIVITY,)),
    Meaning.OCCUPANCY: MeaningInfo((ValueKind.BOOL, ValueKind.NUMBER), (), "occupancy", None,
                                   (Role.ACTIVITY,)),
    Meaning.PRESENCE: MeaningInfo(_BOOL, (), "presence", None, (Role.ACTIVITY,)),
    Meaning.DOOR: MeaningInfo(_BOOL, (), "door", None, (Role.ACTIVITY,)),
    Meaning.LEAK: MeaningInfo(_BOOL, (), "moisture", None, (Role.WATER_LEAK,)),
    Meaning.COUNTER: MeaningInfo(_NUM, (), None, "total_increasing"),
    Meaning.NUMBER: MeaningInfo(_NUM, (), None, "measurement"),
    Meaning.TEXT: MeaningInfo((ValueKind.TEXT,)),
    Meaning.FLAG: MeaningInfo(_BOOL),
}  # fmt: skip

# Unit spellings seen in decoders, to our (Home Assistant's) spelling.
UNIT_ALIASES: dict[str, str] = {
    "c": "°C", "°c": "°C", "degc": "°C", "celsius": "°C", "f": "°F", "°f": "°F",
    "%": "%", "pct": "%", "percent": "%", "%rh": "%", "rh": "%",
    "hpa": "hPa", "pa": "Pa", "kpa": "kPa", "mbar": "mbar", "bar": "bar",
    "ppm": "ppm", "lx": "lx", "lux": "lx",
    "v": "V", "volt": "V", "volts": "V", "mv": "mV",
    "mm": "mm", "cm": "cm", "m": "m",
    "m3": "m³", "m³": "m³", "l": "L", "liter": "L", "litre": "L", "liters": "L", "litres": "L",
}  # fmt: skip

# The TTN Device Repository's normalized schema (lorawan-devices lib/payload.json): facts.
NORMALIZED: dict[str, tuple[Meaning, str | None]] = {
    "air.temperature": (Meaning.TEMPERATURE, "°C"),
    "air.relativeHumidity": (Meaning.HUMIDITY, "%"),
    "air.pressure": (Meaning.PRESSURE, "hPa"),
    "air.co2": (Meaning.CO2, "ppm"),
    "air.lightIntensity": (Meaning.ILLUMINANCE, "lx"),
    "battery": (Meaning.BATTERY_VOLTAGE, "V"),
    "water.leak": (Meaning.LEAK, None),
    "water.temperature": (Meaning.TEMPERATURE, "°C"),
    "soil.temperature": (Meaning.TEMPERATURE, "°C"),
    "metering.water.total": (Meaning.WATER_VOLUME, "m³"),  # litres on the wire, see _LITRES
    "action.motion.detected": (Meaning.MOTION, None),
    "action.motion.count": (Meaning.MOTION, None),
    "action.contactState": (Meaning.DOOR, None),
}
_LITRES = frozenset({"metering.water.total"})  # normalized litres shown as m³
_NORMALIZED_SKIP = frozenset({"time"})  # the measurement time, not a field

# Name guesses: (tokens any of which must be in the name, meaning). First match wins.
_RULES: tuple[tuple[frozenset[str], Meaning], ...] = (
    (frozenset({"motion", "pir", "movement"}), Meaning.MOTION),
    (frozenset({"occupancy", "occupied"}), Meaning.OCCUPANCY),
    (frozenset({"presence", "present"}), Meaning.PRESENCE),
    (frozenset({"duration", "time", "timestamp", "interval", "period", "version", "id",
                "uptime", "fcnt", "rssi", "snr", "port"}), Meaning.NUMBER),
    (frozenset({"leak", "leakage", "flood", "flooding", "waterleak"}), Meaning.LEAK),
    (frozenset({"volume", "meter_reading", "meterreading", "consumption", "index"}),
     Meaning.WATER_VOLUME),
    (frozenset({"count", "counter", "counts", "times", "pulse", "pulses", "total"}),
     Meaning.COUNTER),
    (frozenset({"door", "contact", "reed", "window", "contactstate", "opened"}), Meaning.DOOR),
    (frozenset({"temperature", "temp", "tempc", "temperaturec", "ambienttemperature"}),
     Meaning.TEMPERATURE),
    (frozenset({"humidity", "hum", "humi", "humid", "rh", "relativehumidity"}), Meaning.HUMIDITY),
    (frozenset({"pressure", "press", "baro", "barometer", "barometric"}), Meaning.PRESSURE),
    (frozenset({"co2", "eco2", "carbondioxide"}), Meaning.CO2),
    (frozenset({"light", "lux", "illuminance", "luminosity", "lightintensity", "illumination"}),
     Meaning.ILLUMINANCE),
    (frozenset({"batv", "vbat", "vdd", "battvolt", "batteryvoltage", "voltage", "volt",
                "batvolt"}), Meaning.BATTERY_VOLTAGE),
    (frozenset({"battery", "bat", "batt", "batterylevel", "battery_level"}), Meaning.BATTERY),
    (frozenset({"distance", "dist", "level", "range", "depth"}), Meaning.DISTANCE),
)  # fmt: skip
