"""How devices are named in Home Assistant (pure: no Home Assistant imports)."""

from __future__ import annotations

from .device import DeviceConfig


def device_name(title: str, area: str | None) -> str:
    """The device's name without a leading area label ("Lgh 1101 ytterdörr" → "Ytterdörr").

    Home Assistant prefixes entity names with the area, so repeating it in the device
    name would give "Lgh 1101 Lgh 1101 ytterdörr Dörr". Subentry titles keep the label,
    so the sensors stay distinguishable in the integration's list.
    """
    if area and title.casefold().startswith(area.casefold()):
        rest = title[len(area) :].strip(" -–·:")
        if rest:
            return rest[0].upper() + rest[1:]
    return title


def device_model(config: DeviceConfig) -> str | None:
    """The device's model as HA shows it: the product, or a generic device's profile.

    A generic device without a profile the network server named has none: HA never
    translates a model, so no "Generic device" in English on a Swedish page.
    """
    if config.model_text:
        return config.model_text
    return None if config.is_generic else config.model.name
