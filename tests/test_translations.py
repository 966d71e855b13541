"""Every translation string renders in Home Assistant's frontend.

The frontend formats each string with formatjs (ICU MessageFormat): a literal ``{x}`` is a
placeholder ("Translation error: MISSING_VALUE" when the code passes none) and ``<x>`` is a
tag ("UNCLOSED_TAG"). These tests parse every string of both languages with the frontend's
own parser, ``@formatjs/icu-messageformat-parser`` (pinned in ``tools/node/package.json`` to
the version home-assistant-frontend ships; ``scripts/bootstrap`` installs it), and check each
string's arguments against the placeholders the code passes for that key.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from fnmatch import fnmatchcase
import json
import os
from pathlib import Path
import re
import shutil
import string
import subprocess
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]
INTEGRATION = ROOT / "custom_components" / "ange_iot"
TRANSLATIONS = INTEGRATION / "translations"
LANGUAGES = ("en", "sv")
NODE_TOOLS = ROOT / "tools" / "node"
PARSER = NODE_TOOLS / "node_modules" / "@formatjs" / "icu-messageformat-parser"

# The placeholders the code passes, by translation key (fnmatch patterns; a string under no
# pattern may use none). Flow errors render with the placeholders of the step showing them.
# Each name here must be passed somewhere in the code (test_placeholders_are_supplied).
SUPPLIED: dict[str, set[str]] = {
    "config.flow_title": {"dev_eui", "gateway", "profile"},  # title_placeholders
    "config.step.discovery_confirm.*": {"dev_eui", "gateway", "profile", "fields"},
    "config.step.reauth_confirm.*": {"gateway", "host"},
    "config.step.reconfigure.*": {"gateway"},
    "config.abort.mqtt_not_configured": {"mqtt_url"},
    "config.create_entry.*": {"url", "event", "header", "secret"},
    "options.step.connection.*": {"connection"},
    "config_subentries.device.step.reconfigure.*": {"dev_eui"},
    "config_subentries.device.step.model_options.*": {"dev_eui"},
    # The building's thresholds on the meter form (part_flows._water_defaults_placeholders):
    "config_subentries.water_meter.step.*": {
        "night_flow_lph",
        "high_use_factor",
        "daily_limit_l",
        "silent_hours",
    },
    # The building's times on the apartment form (part_flows._defaults_placeholders):
    "config_subentries.apartment.step.*": {
        "morning_start",
        "morning_deadline",
        "active_start",
        "active_end",
        "inactivity_limit",
        "night_start",
        "night_end",
        "grace",
    },
    "config_subentries.snow_site.error.mounting_height_required": {"sensor"},
    "exceptions.entry_not_found.message": {"entry_id"},
    "exceptions.entry_not_loaded.message": {"title"},
    "exceptions.not_simulated.message": {"title"},
    "exceptions.bad_scenario_target.message": {"scenario", "target", "error"},
    "exceptions.storage_auth_failed.message": {"gateway"},
    "exceptions.apartment_not_found.message": {"device_id"},
    "exceptions.pause_in_past.message": {"until"},
    "exceptions.no_reading_to_accept.message": {"meter"},
    "exceptions.nothing_to_acknowledge.message": {"apartment"},
    "exceptions.building_not_found.message": {"entry_id"},
    "exceptions.no_meter_alert_to_acknowledge.message": {"building"},
    "issues.gateway_silent.*": {"gateway", "since", "minutes"},
    "issues.entity_cap_near.*": {"gateway", "count", "max", "devices", "threshold"},
    # The fix flow's confirm step shows the issue's own placeholders (ConfirmRepairFlow).
    "issues.care_state_lost.*": {"building", "apartments"},
    "issues.meter_reading_backwards.*": {"meter", "reading", "previous"},
    "issues.generic_no_codec.*": {"device", "dev_eui"},
    # The care board's tap confirmation, filled in by building/care_board.py.
    "care_board.confirm": {"label"},
    # The logbook's lines, filled in by logbook.py (describe_care, describe_meter).
    "logbook.care.*": {"user", "until", "reason", "resolution", "shift"},
    "logbook.meter.*": {"alert", "user", "rate"},
    # A meter's reading named with its place (gateway/sensor.py, placed_name).
    "entity.sensor.volume_at.name": {"place"},
    "issues.phone_check_failed.*": {"phone", "building", "shift"},  # building/phone_check.py
    # Generic devices: the field key in entity names, the field map in its flow steps.
    "entity.*.generic_*.name": {"field"},
    "config_subentries.device.step.fields.*": {"dev_eui", "fields"},
    "config_subentries.device.step.field.*": {"field", "guess"},
    # Settings the engine refuses: angelib's SettingsError code is the error key, its
    # params the placeholders (building/config_flow._form_error).
    "*.error.morning_deadline_order": {"deadline", "start"},
    "*.error.active_hours_order": {"start", "end"},
    "*.error.inactivity_too_long": {"limit", "start", "end"},
    "*.error.high_use_factor_low": {"factor"},
    "*.error.night_check_in_night": {"check", "start", "end"},
}


def _flatten(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{path}.")
        else:
            assert isinstance(value, str), path
            yield path, value


def _strings(language: str) -> dict[str, str]:
    return dict(_flatten(json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))))


def _supplied(key: str) -> set[str]:
    names: set[str] = set()
    for pattern, placeholders in SUPPLIED.items():
        if fnmatchcase(key, pattern):
            names |= placeholders
    return names


def _parse(messages: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Parse with the frontend's parser (node ``tools/node/check_messages.mjs``)."""
    node = shutil.which("node")
    if node is None or not PARSER.is_dir():
        reason = "node or tools/node/node_modules missing: run scripts/bootstrap"
        if os.environ.get("CI") or os.environ.get("ANGE_REQUIRE_NODE"):
            pytest.fail(reason)
        pytest.skip(reason)
    done = subprocess.run(
        [node, str(NODE_TOOLS / "check_messages.mjs")],
        input=json.dumps(messages),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    results: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return results


def _problems(messages: dict[str, str]) -> list[str]:
    problems = []
    for key, result in _parse(messages).items():
        if "error" in result:
            problems.append(f"{key}: {result['error']}: {messages[key]!r}")
            continue
        supplied = _supplied(key)
        if missing := set(result["arguments"]) - supplied:
            problems.append(f"{key}: no value passed for {sorted(missing)}: {messages[key]!r}")
        # An apostrophe before a brace quotes it: "'{gateway}'" shows "{gateway}" as is.
        for literal in result["literals"]:
            for name in re.findall(r"\{(\w+)\}", literal):
                if name in supplied:
                    problems.append(f"{key}: {{{name}}} is quoted by accident: {messages[key]!r}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_renders(language: str) -> None:
    """No string would show "Translation error" in the frontend."""
    messages = _strings(language)
    assert len(messages) > 300  # both files, whole
    assert _problems(messages) == []


def test_broken_strings_are_caught() -> None:
    """The check fails on the ways a string breaks (so it can fail)."""
    broken = {
        "config.step.chirpstack_mqtt.data_description.topic_template": "{devEui} level",
        "config.step.tts_mqtt.description": "reads v3/<app>@<tenant>/devices/+/up",
        "config.flow_title": "device {dev_eui}, profile '{profile}'",
        "config.step.reconfigure.title": "Reconfigure {gateway} {",
        "exceptions.pause_in_past.message": "not {until} but {then}",
    }
    problems = _problems(broken)
    assert [p.split(":", 1)[0] for p in problems] == list(broken)
    assert _problems({"config.step.chirpstack_mqtt.title": "Needs '{'devEui'}'"}) == []


def test_languages_have_the_same_keys() -> None:
    """Swedish and English cover the same strings."""
    assert set(_strings("en")) == set(_strings("sv"))


def _python_fields(message: str) -> set[str]:
    return {field for _text, field, _spec, _conv in string.Formatter().parse(message) if field}


def test_backend_accepts_every_string() -> None:
    """Home Assistant's backend parses each string with Python's formatter and drops a
    translation whose ``{fields}`` differ from English (translation.py,
    _validate_placeholders: it logs an error and shows English instead), so a quoted
    '{'x'}' must read the same in both languages."""
    english, swedish = _strings("en"), _strings("sv")
    problems = []
    for key, message in english.items():
        try:
            fields = _python_fields(message), _python_fields(swedish[key])
        except ValueError as err:
            problems.append(f"{key}: {err}")
            continue
        if fields[0] != fields[1]:
            problems.append(f"{key}: {fields[0]} != {fields[1]}")
    assert problems == []


def _placeholder_names_in_code() -> set[str]:
    """Keys of every placeholder dict the integration builds.

    ``description_placeholders=``/``translation_placeholders=`` arguments, names and
    attributes called ``*placeholders`` (assigned a dict, or given a key), what functions
    called ``*placeholders`` return, and the params of angelib's ``SettingsError``.
    """
    names: set[str] = set()

    def keys(node: ast.AST | None) -> None:
        if isinstance(node, ast.Dict):
            names.update(
                k.value
                for k in node.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            )

    def is_placeholders(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id.endswith("placeholders")
        if isinstance(node, ast.Attribute):
            return node.attr.endswith("placeholders")
        if isinstance(node, ast.Subscript):  # self.context["title_placeholders"]
            return isinstance(node.slice, ast.Constant) and str(node.slice.value).endswith(
                "placeholders"
            )
        return False

    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.keyword) and node.arg and node.arg.endswith("placeholders"):
                keys(node.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "SettingsError"
            ):
                names.update(k.arg for k in node.keywords if k.arg)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if is_placeholders(target):
                        keys(node.value)
                    elif (
                        isinstance(target, ast.Subscript)
                        and is_placeholders(target.value)
                        and isinstance(target.slice, ast.Constant)
                    ):
                        names.add(str(target.slice.value))
            elif isinstance(node, ast.FunctionDef) and node.name.endswith("placeholders"):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Return):
                        keys(inner.value)
    return names


def test_placeholders_are_supplied() -> None:
    """Every placeholder the allow-list above permits is passed somewhere in the code."""
    in_code = _placeholder_names_in_code()
    allowed = set().union(*SUPPLIED.values())
    assert allowed - in_code == set()


def _settings_error_codes(module: str) -> set[str]:
    tree = ast.parse((INTEGRATION / "angelib" / module).read_text("utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "SettingsError"
        and isinstance(node.args[0], ast.Constant)
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_engine_errors_are_translated(language: str) -> None:
    """Every rule the care and meter engines enforce has a translated form error."""
    from custom_components.ange_iot.config_flow import CARE_ERRORS, WATER_ERRORS

    assert _settings_error_codes("care/settings.py") == CARE_ERRORS
    assert _settings_error_codes("meters/settings.py") == WATER_ERRORS
    strings = _strings(language)
    for code in CARE_ERRORS:
        for section in ("config", "options", "config_subentries.apartment"):
            assert strings[f"{section}.error.{code}"], (section, code)
    for code in WATER_ERRORS:
        assert strings[f"options.error.{code}"], code


@pytest.mark.parametrize("language", LANGUAGES)
def test_logbook_lines_are_translated(language: str) -> None:
    """Every logbook line, reason and meter alert the code can write has its words."""
    from custom_components.ange_iot.angelib.care.model import Reason, Resolution
    from custom_components.ange_iot.angelib.meters import AlertType
    from custom_components.ange_iot.logbook import CARE_ICONS, METER_ICONS

    strings = _strings(language)
    missing = [
        key
        for key in (
            *(f"logbook.care.{action}" for action in CARE_ICONS),
            *(f"logbook.meter.{action}" for action in METER_ICONS),
            *(f"logbook.reason.{code}" for code in (*Reason, *Resolution)),
            *(f"logbook.meter_alert.{code}" for code in AlertType),
        )
        if not strings.get(key)
    ]
    assert missing == []
