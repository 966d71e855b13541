"""scripts/decode-lns: the entities a generic device gets from one pasted message."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
import sys
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "generic"


@pytest.fixture(scope="module")
def decode_lns() -> ModuleType:
    """The script as a module (it puts the integration's package on sys.path itself)."""
    spec = importlib.util.spec_from_file_location("decode_lns", ROOT / "scripts" / "decode_lns.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recorded_chirpstack_event_as_json(
    decode_lns: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recorded ChirpStack event: every field with its platform, class and unit."""
    assert decode_lns.main([str(DATA / "dragino_lds02_chirpstack.json"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["catalogue_model"] is None
    door = next(e for e in out["entities"] if e["field"] == "DOOR_OPEN_STATUS")
    assert door["platform"] == "binary_sensor"
    assert door["device_class"] == "door"
    assert door["unique_id"] == "a84041000181b002_field_DOOR_OPEN_STATUS"
    assert door["roles"] == ["activity"]


def test_pasted_tts_uplink_table(
    decode_lns: ModuleType, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TTS uplink pasted on stdin: the normalized fields, as a table."""
    message = json.loads((DATA / "quandify_cubicmeter_tts_normalized.json").read_text())["message"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(message)))
    assert decode_lns.main([]) == 0
    out = capsys.readouterr().out
    assert "metering.water.total   water_volume     water         m³    5.342" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "malformed JSON"),
        ('{"x": 1}', "neither a The Things Stack uplink"),
        ('{"deviceInfo": {}}', "DevEUI must be a string"),
    ],
)
def test_unreadable_message_exits_2(
    decode_lns: ModuleType,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    message: str,
) -> None:
    """One line on stderr, exit 2, no traceback."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert decode_lns.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("decode-lns: ")
    assert len(err.strip().splitlines()) == 1
    assert message in err
