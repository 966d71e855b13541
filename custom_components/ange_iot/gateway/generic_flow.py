"""Reconfigure a generic device's fields: meaning, unit, hidden, role (facility manager).

A subentry reconfigure step of its own file, as HA core's big flows keep such steps apart.
The fields listed are the ones the device's gateway learned (or the discovering uplink
showed); the corrections are stored in the subentry's data under ``fields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SubentryFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.translation import async_get_translations
import voluptuous as vol

from ..angelib import generic
from ..angelib.generic import FieldOverride, FieldSpec, Meaning, Role
from ..const import CONF_DEV_EUI, CONF_FIELDS, CONF_SEEN_FIELDS, DOMAIN
from ..flow_helpers import flow_schema
from ..router import get_router

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentryFlow

    _Base = ConfigSubentryFlow
else:
    _Base = object

DONE = "_done"
CONF_FIELD = "field"
CONF_MEANING = "meaning"
CONF_UNIT = "unit"
CONF_HIDDEN = "hidden"
CONF_ROLE = "role"
NO_UNIT = "none"
ALL_UNITS = sorted({u for info in generic.MEANINGS.values() for u in info.units})
MAX_LISTED = 40  # fields listed in a description


async def fields_summary(
    hass: HomeAssistant, specs: list[FieldSpec], values: Mapping[str, Any] | None = None
) -> str:
    """A markdown list of fields in the user's language: key, meaning, unit, value, role."""
    if not specs:
        return "-"
    words = await async_get_translations(hass, hass.config.language, "selector", [DOMAIN])

    def word(selector: str, option: str) -> str:
        return words.get(f"component.{DOMAIN}.selector.{selector}.options.{option}", option)

    lines = []
    for spec in specs[:MAX_LISTED]:
        parts = [word("meaning", spec.meaning)]
        if values is not None and spec.key in values and values[spec.key] is not None:
            parts.append(f"{values[spec.key]} {spec.unit or ''}".strip())
        elif spec.unit:
            parts.append(spec.unit)
        if spec.guessed:
            parts.append(word("field_note", "guessed"))
        if spec.role is not Role.NONE:
            parts.append(word("role", spec.role))
        if spec.hidden:
            parts.append(word("field_note", "hidden"))
        lines.append(f"- `{spec.key}`: " + ", ".join(parts))
    if len(specs) > MAX_LISTED:
        lines.append(f"- … (+{len(specs) - MAX_LISTED})")
    return "\n".join(lines)


def learned_fields(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, FieldSpec]:
    """The fields a generic device's gateway learned, else those its discovery showed."""
    dev_eui = data.get(CONF_DEV_EUI, "")
    tracked = get_router(hass).tracked(dev_eui)
    if tracked is not None and tracked.state.generic is not None and tracked.state.generic.fields:
        return dict(tracked.state.generic.fields)
    seen = data.get(CONF_SEEN_FIELDS)
    return generic.GenericState.from_dict({"fields": seen}).fields if isinstance(seen, list) else {}


class GenericFieldsMixin(_Base):
    """Steps ``fields`` (pick one, or done) and ``field`` (correct it) of a reconfigure."""

    _pending: tuple[str, dict[str, Any]]
    _overrides: dict[str, FieldOverride]
    _field: str

    async def async_start_fields(self, title: str, data: dict[str, Any]) -> SubentryFlowResult:
        """Keep the device form's values; list the fields."""
        self._pending = (title, data)
        self._overrides = generic.parse_overrides(data.get(CONF_FIELDS))
        return await self.async_step_fields()

    def _specs(self) -> dict[str, FieldSpec]:
        learned = learned_fields(self.hass, self._pending[1])
        return {k: generic.effective(s, self._overrides.get(k)) for k, s in learned.items()}

    async def async_step_fields(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Every field with its meaning, unit and role; pick one to correct, or finish."""
        specs = self._specs()
        if user_input is not None:
            choice = user_input[CONF_FIELD]
            if choice == DONE or choice not in specs:
                title, data = self._pending
                data[CONF_FIELDS] = {
                    key: override.as_dict() for key, override in self._overrides.items()
                }
                return self.async_update_and_abort(
                    self._get_entry(), self._get_reconfigure_subentry(), title=title, data=data
                )
            self._field = choice
            return await self.async_step_field()
        options = [SelectOptionDict(value=DONE, label=DONE)] + [
            SelectOptionDict(value=key, label=key) for key in list(specs)[:MAX_LISTED]
        ]
        return self.async_show_form(
            step_id="fields",
            data_schema=flow_schema(
                {
                    vol.Required(CONF_FIELD, default=DONE): SelectSelector(
                        SelectSelectorConfig(
                            options=options,
                            mode=SelectSelectorMode.DROPDOWN,
                            translation_key="generic_field",
                        )
                    )
                }
            ),
            description_placeholders={
                "dev_eui": self._pending[1].get(CONF_DEV_EUI, ""),
                "fields": await fields_summary(self.hass, list(specs.values())),
            },
        )

    async def async_step_field(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Correct one field: its meaning, unit, whether it is shown, its role."""
        learned = learned_fields(self.hass, self._pending[1]).get(self._field)
        if learned is None:
            return await self.async_step_fields()
        current = generic.effective(learned, self._overrides.get(self._field))
        errors: dict[str, str] = {}
        if user_input is not None:
            meaning = Meaning(user_input[CONF_MEANING])
            unit = user_input.get(CONF_UNIT) or NO_UNIT
            role = Role(user_input.get(CONF_ROLE) or Role.NONE)
            info = generic.MEANINGS[meaning]
            if unit != NO_UNIT and unit not in info.units:
                errors[CONF_UNIT] = "unit_not_for_meaning"
            elif role is not Role.NONE and role not in info.roles:
                errors[CONF_ROLE] = "role_not_for_meaning"
            else:
                self._overrides[self._field] = FieldOverride(
                    meaning=meaning if meaning is not learned.meaning else None,
                    unit=unit if unit not in (NO_UNIT, learned.unit) else None,
                    hidden=bool(user_input.get(CONF_HIDDEN)),
                    role=role,
                )
                return await self.async_step_fields()
        schema = flow_schema(
            {
                vol.Required(CONF_MEANING, default=str(current.meaning)): SelectSelector(
                    SelectSelectorConfig(
                        options=[str(m) for m in Meaning],
                        translation_key="meaning",
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(CONF_UNIT, default=current.unit or NO_UNIT): SelectSelector(
                    SelectSelectorConfig(
                        options=[NO_UNIT, *ALL_UNITS],
                        translation_key="unit",
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(CONF_HIDDEN, default=current.hidden): BooleanSelector(),
                vol.Required(CONF_ROLE, default=str(current.role)): SelectSelector(
                    SelectSelectorConfig(
                        options=[str(r) for r in Role],
                        translation_key="role",
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="field",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            description_placeholders={
                "field": self._field,
                "guess": await fields_summary(self.hass, [learned]),
            },
            errors=errors,
        )
