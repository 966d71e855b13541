"""Both languages name the same placeholders, as Home Assistant's translation loader demands.

HA compares each localized string's ``string.Formatter`` fields with the English one's (ICU
quoting is not understood there: ``'{'x'}'`` counts as the field ``'x'``); on a mismatch it logs
an ERROR and shows the English string instead, so a Swedish user would read English.
"""

from __future__ import annotations

import json
from pathlib import Path
import string
from typing import Any

TRANSLATIONS = Path(__file__).resolve().parents[1] / "custom_components/ange_iot/translations"


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def _fields(text: str) -> set[str]:
    """The fields HA's loader sees (homeassistant/helpers/translation.py)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_same_placeholders_in_both_languages() -> None:
    english = _flat(json.loads((TRANSLATIONS / "en.json").read_text()))
    swedish = _flat(json.loads((TRANSLATIONS / "sv.json").read_text()))
    differing = {
        key: (_fields(text), _fields(swedish[key]))
        for key, text in english.items()
        if key in swedish and _fields(text) != _fields(swedish[key])
    }
    assert differing == {}
