"""Diagnostics of a building entry: its settings and counts, nothing about residents."""

from __future__ import annotations

from typing import Any

from .runtime import BuildingConfigEntry


def building_diagnostics(entry: BuildingConfigEntry) -> dict[str, Any]:
    """A building's settings: no labels, sensors, statuses, readings or activity times."""
    runtime = entry.runtime_data
    return {
        "entry": {"data": dict(runtime.entry.data), "options": dict(runtime.entry.options)},
        "apartments": [
            {
                "apartment": f"apartment_{index}",
                "settings": apartment.settings.as_dict(),
                "sensors": len(apartment.sensors),
                "escalations_armed": len(apartment.escalations),
            }
            for index, apartment in enumerate(runtime.care.apartments.values(), start=1)
        ],
        # Meters and sites: settings, counts and alert types; no DevEUIs, names or readings
        # (an apartment meter's hourly use tells when someone is at home).
        "water_meters": [
            {
                "meter": f"meter_{index}",
                "counted": meter.counted,
                "settings": meter.settings.as_dict(),
                "hourly_points": len(meter.state.series),
                "open_alerts": sorted(str(alert) for alert in meter.state.active),
            }
            for index, meter in enumerate(runtime.water.meters.values(), start=1)
        ],
        "snow_sites": [
            {
                "site": f"site_{index}",
                "sensors": len(site.sensors),
                "settings": site.settings.as_dict(),
                "needs_clearing": site.state.needs_clearing,
            }
            for index, site in enumerate(runtime.snow.sites.values(), start=1)
        ],
    }
