"""Diagnostics of a gateway entry: configuration and device health, nothing about residents."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.util import dt as dt_util

from ..const import CONF_LEAKING_METER, CONF_RESIDENT_NOT_UP, CONF_SILENT_DEVICE, NONE_OPTION
from .field_entity import generic_diagnostics, generic_resident_keys
from .hub import GatewayConfigEntry

# Identifiers and secrets, and the names/areas a facility manager typed.
TO_REDACT = {
    "dev_eui",
    "api_key",
    "secret",
    "webhook_id",
    "name",
    "title",
    "area",
    "serial_number",
    "meter_id",  # a meter's own identification number (decoded from its frames)
    "application_id",
    "host",
}
# Simulation options whose value is a DevEUI or an apartment label.
TARGET_OPTIONS = frozenset({CONF_RESIDENT_NOT_UP, CONF_SILENT_DEVICE, CONF_LEAKING_METER})
# Anything that tells when a resident moved, opened a door or used water.
RESIDENT_FIELDS = frozenset(
    {
        "motion_count",
        "occupancy",
        "presence",
        "close_proximity",
        "door",
        "door_alarm",
        "volume",
        "volume_log_m3",
        "volume_log_times",
        "meter_time",
        "flow_min_m3h",
        "flow_max_m3h",
        "door_count",
        "ir_proximity",
        "ir_close_proximity",
        "history",
    }
)


def gateway_diagnostics(entry: GatewayConfigEntry) -> dict[str, Any]:
    """Configuration, counters and per-device health with identities redacted."""
    hub = entry.runtime_data
    now = dt_util.utcnow()
    devices = []
    for index, (dev_eui, tracked) in enumerate(sorted(hub.pipeline.devices.items()), start=1):
        state = tracked.state
        resident_keys = generic_resident_keys(tracked)
        devices.append(
            {
                "device": f"device_{index}",
                "model": tracked.config.model_id,
                "report_interval_s": int(tracked.config.interval.total_seconds()),
                "missed_reports": tracked.config.missed_reports,
                "invert_door": tracked.config.invert_door,
                "mounting_height_mm": tracked.config.mounting_height_mm,
                "available": hub.is_available(dev_eui),
                "seconds_since_last_seen": (
                    round((now - state.last_seen).total_seconds()) if state.last_seen else None
                ),
                "rssi": state.rssi,
                "snr": state.snr,
                "fcnt": state.fcnt,
                "rejected_frames": state.rejected_frames,
                "volume_decreased": state.volume_decreased,
                "fields": sorted(
                    k if k not in RESIDENT_FIELDS and k not in resident_keys else f"{k} (redacted)"
                    for k in state.values
                ),
                "values": async_redact_data(
                    {
                        k: v
                        for k, v in state.values.items()
                        if k not in RESIDENT_FIELDS
                        and k not in resident_keys
                        and not isinstance(v, list)
                    },
                    TO_REDACT,
                ),
                **({"generic": generic_diagnostics(tracked)} if tracked.config.is_generic else {}),
            }
        )
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": {
                k: REDACTED if k in TARGET_OPTIONS and v not in (NONE_OPTION, "", None) else v
                for k, v in entry.options.items()
            },
            "subentries": len(entry.subentries),
        },
        "gateway": {
            "type": entry.data.get("gateway"),
            "messages": hub.stats.messages,
            "uplinks": hub.stats.uplinks,
            "malformed": hub.stats.malformed,
            "rejected": dict(sorted(hub.stats.rejected.items())),
            "outcomes": dict(sorted(hub.pipeline.counters.items())),
            "seconds_since_last_message": (
                round((now - hub.stats.last_message).total_seconds())
                if hub.stats.last_message
                else None
            ),
            "silent": hub.silent,
            "transport": hub.gateway.diagnostics() if hub.gateway else {},
        },
        "devices": devices,
    }
