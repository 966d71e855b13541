"""Decode one LoRaWAN payload with an Ånge IoT codec and print canonical JSON.

Exit 0 with one JSON object on stdout; a malformed frame prints one line on stderr and
exits 2 (no traceback). For field technicians: paste the hex from the network server.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "custom_components" / "ange_iot"))

from angelib.catalog import MODELS
from angelib.codecs import CODECS, DecodeError

EXIT_MALFORMED = 2


def _epilog() -> str:
    lines = ["codecs and the models they decode:"]
    for codec in CODECS.values():
        lines.append(f"  {codec.id:<18} {codec.name} (default fPort {codec.default_fport})")
        lines.extend(f"  {'':<18}   - {model}" for model in codec.models)
    lines.append("")
    lines.append("catalogue models (as chosen in Home Assistant) and their codec:")
    lines.extend(f"  {m.id:<26} {m.manufacturer} {m.name} -> {m.codec}" for m in MODELS.values())
    lines.append("")
    lines.append("example: scripts/decode elsys 5 0100e202290400270506")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, decode, print; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="scripts/decode",
        description="Decode one LoRaWAN payload to canonical fields (JSON).",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("codec", choices=sorted(CODECS), metavar="CODEC", help="codec id")
    parser.add_argument("fport", type=int, metavar="FPORT", help="LoRaWAN fPort (0-255)")
    parser.add_argument("hex", metavar="HEX", help="payload as hex (spaces and 0x allowed)")
    args = parser.parse_args(argv)

    text = args.hex.strip().lower().removeprefix("0x").replace(" ", "").replace(":", "")
    try:
        payload = bytes.fromhex(text)
    except ValueError:
        print(f"decode: not a hex string: {args.hex!r}", file=sys.stderr)
        return EXIT_MALFORMED
    if not 0 <= args.fport <= 255:
        print(f"decode: fPort must be 0-255, got {args.fport}", file=sys.stderr)
        return EXIT_MALFORMED
    try:
        fields = CODECS[args.codec].decode(args.fport, payload)
    except DecodeError as err:
        print(f"decode: {err}", file=sys.stderr)
        return EXIT_MALFORMED
    print(json.dumps(fields, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
