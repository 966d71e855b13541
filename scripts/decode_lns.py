"""Show which entities a generic device would get from one network-server message.

Paste a The Things Stack v3 uplink (webhook body or MQTT ``up`` payload) or a ChirpStack v4
``up`` event: the fields the network server decoded (TTS ``normalized_payload`` first, then
``decoded_payload``; ChirpStack ``object``) are typed as Ånge IoT's generic device types them.
Exit 0 with a table (or ``--json``); a message that cannot be read: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "custom_components" / "ange_iot"))

from angelib import generic
from angelib.catalog import guess_model
from angelib.lns import chirpstack, tts
from angelib.uplink import MessageError, Uplink

EXIT_MALFORMED = 2


def parse(text: str) -> Uplink:
    """A TTS uplink or a ChirpStack up event, told apart by its keys."""
    data = chirpstack.load_object(text, binary_hint="not JSON text")
    if "uplink_message" in data or "end_device_ids" in data:
        return tts.parse_up(data, source="tts")
    if "deviceInfo" in data:
        return chirpstack.parse_up(data, source="chirpstack")
    raise MessageError(
        "neither a The Things Stack uplink (uplink_message) nor a ChirpStack up event (deviceInfo)"
    )


def rows(uplink: Uplink) -> list[dict[str, Any]]:
    """One row per entity: platform, field, meaning, device class, unit, state class, value."""
    out = []
    for spec, value in generic.preview(uplink.lns_object, uplink.lns_normalized):
        info = spec.info
        is_binary = spec.kind is generic.ValueKind.BOOL
        numeric = spec.kind is generic.ValueKind.NUMBER
        resident = spec.meaning in (generic.Meaning.MOTION, generic.Meaning.OCCUPANCY)
        out.append(
            {
                "platform": "binary_sensor" if is_binary else "sensor",
                "unique_id": f"{uplink.dev_eui}_field_{spec.key}",
                "field": spec.key,
                "meaning": str(spec.meaning),
                "device_class": info.device_class if (is_binary or (numeric and not resident))
                else None,
                "unit": spec.unit,
                "state_class": info.state_class if numeric and not resident else None,
                "value": value,
                "guessed": spec.guessed,
                "enabled": spec.enabled,
                "roles": [str(r) for r in info.roles],
                "source": spec.source,
            }
        )  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Read the message, print the entities; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="scripts/decode-lns",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog="example: scripts/decode-lns tests/angelib/data/generic/x.json  (or paste on stdin)",
    )
    parser.add_argument("file", nargs="?", help="a file with the JSON message (default: stdin)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    text = Path(args.file).read_text() if args.file else sys.stdin.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        print(f"decode-lns: malformed JSON: {err.msg} at position {err.pos}", file=sys.stderr)
        return EXIT_MALFORMED
    if isinstance(data, dict) and isinstance(data.get("message"), dict):
        data = data["message"]  # a recorded test file: the message inside it
    try:
        uplink = parse(json.dumps(data))
    except MessageError as err:
        print(f"decode-lns: {err}", file=sys.stderr)
        return EXIT_MALFORMED
    model = guess_model(uplink.profile_hint)
    found = rows(uplink)
    if args.json:
        print(json.dumps({"dev_eui": uplink.dev_eui, "profile": uplink.profile_hint,
                          "catalogue_model": model.id if model else None,
                          "warnings": list(uplink.lns_warnings), "entities": found},
                         ensure_ascii=False, indent=1))  # fmt: skip
        return 0
    print(f"DevEUI {uplink.dev_eui}, network server profile: {uplink.profile_hint or '-'}")
    if model is not None:
        print(f"catalogue model {model.id}: discovery pre-selects it and our codec decodes it")
    for warning in uplink.lns_warnings:
        print(f"decoder warning: {warning}")
    if not found:
        print("no decoded object: the network server has no codec for this device")
        return 0
    header = ("platform", "field", "meaning", "device class", "unit", "value", "")
    table = [
        (
            r["platform"], r["field"], r["meaning"], r["device_class"] or "-", r["unit"] or "-",
            json.dumps(r["value"], ensure_ascii=False),
            ("guess" if r["guessed"] else "") + ("" if r["enabled"] else ", disabled"),
        )
        for r in found
    ]  # fmt: skip
    widths = [max(len(str(row[i])) for row in (header, *table)) for i in range(len(header))]
    for row in (header, *table):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
