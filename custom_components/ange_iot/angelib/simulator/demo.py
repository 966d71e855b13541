"""The demo site: its building, apartments and devices, and the quick start's settings.

Data only; ``engine`` makes these devices report.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEMO_APPLICATION_ID = "5e1f0c4a-7d3b-4c2e-9f8a-6b1d2e3c4a5b"
DEMO_SITE_NAME = "Ånge LSS demo"
DEMO_BUILDING = "Gruppbostad Solbacken"
DEMO_LOT = "Parkering Solbacken"
DEMO_AIR_EUI = "70b3d52dd300c002"  # MClimate CO2 Sensor: not in the catalogue
MOUNTING_HEIGHT_MM = 2000


class Role(StrEnum):
    """What a demo device does in the demo building."""

    MOTION = "motion"
    DOOR = "door"
    APARTMENT_METER = "apartment_meter"
    BUILDING_METER = "building_meter"
    SNOW = "snow"
    AIR = "air"  # a CO₂ sensor the network server decodes (a generic device)


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoDevice:
    """One device of the demo site."""

    dev_eui: str
    model_id: str
    name: str
    role: Role
    profile_name: str
    interval_s: int
    area: str  # apartment label, building or lot
    mounting_height_mm: int | None = None


APARTMENTS: tuple[str, ...] = tuple(f"Lgh {n}" for n in (1101, 1102, 1103, 1201, 1202, 1203))


def _demo_devices() -> tuple[DemoDevice, ...]:
    devices: list[DemoDevice] = []
    for i, apt in enumerate(APARTMENTS, start=1):
        devices.append(
            DemoDevice(
                dev_eui=f"a81758fffe0a11{i:02x}",
                model_id="elsys_ers",
                name=f"{apt} rörelsesensor",
                role=Role.MOTION,
                profile_name="Elsys ERS",
                interval_s=600,
                area=apt,
            )
        )
    devices.append(
        DemoDevice(
            dev_eui="70b3d52c00010001",
            model_id="sensative_strips_guard",
            name=f"{APARTMENTS[0]} ytterdörr",
            role=Role.DOOR,
            profile_name="Sensative Strips Guard",
            interval_s=3600,
            area=APARTMENTS[0],
        )
    )
    devices.append(
        DemoDevice(
            dev_eui="0004a30b00e10001",
            model_id="axioma_w1",
            name="Huvudvattenmätare",
            role=Role.BUILDING_METER,
            profile_name="Axioma Qalcosonic W1",
            interval_s=3600,
            area=DEMO_BUILDING,
        )
    )
    for i, apt in enumerate(APARTMENTS, start=1):
        devices.append(
            DemoDevice(
                dev_eui=f"0001a8f0000021{i:02x}",
                model_id="kamstrup_flowiq_2200",
                name=f"{apt} vattenmätare",
                role=Role.APARTMENT_METER,
                profile_name="Kamstrup flowIQ 2200",
                interval_s=3600,
                area=apt,
            )
        )
    for i in (1, 2):
        devices.append(
            DemoDevice(
                dev_eui=f"24e124126b00000{i}",
                model_id="milesight_em500_udl",
                name=f"Snödjup plats {i}",
                role=Role.SNOW,
                profile_name="Milesight EM500-UDL",
                interval_s=600,
                area=DEMO_LOT,
                mounting_height_mm=MOUNTING_HEIGHT_MM,
            )
        )
    return tuple(devices)


DEMO_DEVICES: tuple[DemoDevice, ...] = _demo_devices()
# Sensors outside the catalogue that the demo's "network server" decodes into ``object``.
# Not part of the demo as created: the simulated gateway emits one only once the facility
# manager added its DevEUI (scripts/develop does so with Add sensor, as a generic device).
DEMO_GENERIC_DEVICES: tuple[DemoDevice, ...] = (
    DemoDevice(
        dev_eui=DEMO_AIR_EUI,
        model_id="generic",
        name="Vardagsrum luftkvalitet",
        role=Role.AIR,
        profile_name="MClimate CO2 Sensor",
        interval_s=600,
        area=DEMO_BUILDING,
    ),
)
DEMO_BY_EUI: dict[str, DemoDevice] = {d.dev_eui: d for d in (*DEMO_DEVICES, *DEMO_GENERIC_DEVICES)}

# The demo's quick start (``scripts/develop``): what a newcomer sees within minutes. The
# site runs at 360× (a simulated day in four minutes: the meter's own leak alarm and the
# snow depth follow the simulated clock), a toilet runs in the first apartment, it snows,
# and that apartment's resident does not get up. Care checks run on real time, so the
# apartment's own settings (as a facility manager would enter them in its form) check for
# two minutes without activity at any hour, re-checked after one minute.
DEMO_QUICK_SPEED = "360"
DEMO_NOT_UP = APARTMENTS[0]
DEMO_LEAKING_METER = next(
    d.dev_eui for d in DEMO_DEVICES if d.role is Role.APARTMENT_METER and d.area == DEMO_NOT_UP
)
DEMO_NOT_UP_SETTINGS: dict[str, object] = {
    "inactivity_limit": {"hours": 0, "minutes": 2, "seconds": 0},
    "grace": {"hours": 0, "minutes": 1, "seconds": 0},
    "active_start": "00:00:00",
    "active_end": "23:59:00",
}
