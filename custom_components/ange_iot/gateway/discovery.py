"""Unknown devices: an uplink from a DevEUI no entry runs offers to add it.

Once per DevEUI and run (the router remembers), across all gateways; never for the
simulated gateway (a demo device the user removed is not worth a notice each restart).
What the network server decoded is shown in the flow and seeds a generic device.
"""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import discovery_flow

from ..angelib import generic
from ..angelib.catalog import guess_model
from ..angelib.uplink import Uplink
from ..const import CONF_GATEWAY, DOMAIN, GATEWAY_SIMULATED
from ..router import get_router


@callback
def async_offer_unknown_device(hass: HomeAssistant, entry: ConfigEntry, uplink: Uplink) -> None:
    """Start a discovery flow for the uplink's device, unless one was offered already."""
    if entry.data.get(CONF_GATEWAY) == GATEWAY_SIMULATED:
        return
    router = get_router(hass)
    if uplink.dev_eui in router.discovered:
        return
    router.discovered.add(uplink.dev_eui)
    model = guess_model(uplink.profile_hint)
    seen = generic.preview(uplink.lns_object, uplink.lns_normalized)
    model_id = model.id if model else (generic.GENERIC_MODEL_ID if seen else None)
    discovery_flow.async_create_flow(
        hass,
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={
            "dev_eui": uplink.dev_eui,
            "gateway_entry_id": entry.entry_id,
            "gateway": entry.title,
            "profile": uplink.profile_hint or "",
            "model": model_id,
            # What the network server decoded: shown, and the generic device's first map.
            "fields": [spec.as_dict() for spec, _value in seen],
            "values": {spec.key: value for spec, value in seen},
        },
    )
