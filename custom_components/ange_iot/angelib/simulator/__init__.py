"""The simulated gateway's world: a demo LSS group home that emits real uplinks.

``demo`` is the site (building, apartments, devices, the quick start's settings) and
``engine`` the deterministic ``Simulator`` that makes it report, with its scenarios.
Everything public is re-exported here.
"""

from __future__ import annotations

from .demo import (
    APARTMENTS,
    DEMO_AIR_EUI,
    DEMO_APPLICATION_ID,
    DEMO_BUILDING,
    DEMO_BY_EUI,
    DEMO_DEVICES,
    DEMO_GENERIC_DEVICES,
    DEMO_LEAKING_METER,
    DEMO_LOT,
    DEMO_NOT_UP,
    DEMO_NOT_UP_SETTINGS,
    DEMO_QUICK_SPEED,
    DEMO_SITE_NAME,
    MOUNTING_HEIGHT_MM,
    DemoDevice,
    Role,
)
from .engine import (
    HOUR,
    LEAK_FLOW_L_PER_H,
    LOCAL_TZ,
    SNOWFALL_MM_PER_H,
    Scenario,
    SimMessage,
    Simulator,
)

__all__ = [
    "APARTMENTS",
    "DEMO_AIR_EUI",
    "DEMO_APPLICATION_ID",
    "DEMO_BUILDING",
    "DEMO_BY_EUI",
    "DEMO_DEVICES",
    "DEMO_GENERIC_DEVICES",
    "DEMO_LEAKING_METER",
    "DEMO_LOT",
    "DEMO_NOT_UP",
    "DEMO_NOT_UP_SETTINGS",
    "DEMO_QUICK_SPEED",
    "DEMO_SITE_NAME",
    "HOUR",
    "LEAK_FLOW_L_PER_H",
    "LOCAL_TZ",
    "MOUNTING_HEIGHT_MM",
    "SNOWFALL_MM_PER_H",
    "DemoDevice",
    "Role",
    "Scenario",
    "SimMessage",
    "Simulator",
]
