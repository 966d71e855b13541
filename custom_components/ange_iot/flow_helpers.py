"""What the gateway's and the building's flows both use: schemas and common selectors."""

from __future__ import annotations

from typing import Any

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol


def flow_schema(fields: dict[Any, Any]) -> Any:
    """A voluptuous schema for a flow form.

    Voluptuous is this project's schema library. HA 2026.10 validates with probatio
    and annotates flow schemas as ``probatio.Schema`` but accepts voluptuous schemas
    (tested in test_config_flow); ``Any`` bridges the annotation, nothing else.
    """
    return vol.Schema(fields)


def choices(values: list[tuple[str, str]], *, multiple: bool = False) -> SelectSelector:
    """A drop-down of (value, label) pairs (several may be picked with ``multiple``)."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[SelectOptionDict(value=v, label=label) for v, label in values],
            multiple=multiple,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


def number(low: float, high: float, step: float, unit: str | None = None) -> NumberSelector:
    """A number typed into a box, within limits, in steps, with its unit."""
    config = NumberSelectorConfig(min=low, max=high, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)
