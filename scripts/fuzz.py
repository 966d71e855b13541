"""Fuzz every payload codec with random and mutated frames (see scripts/fuzz).

Three generators share the budget: uniformly random bytes on a random fPort, the
codec's real vectors with random bit flips / truncations / splices, and "structured"
frames built from the codec's own leading bytes. Only ``DecodeError`` may escape.
"""

from __future__ import annotations

import argparse
from collections import Counter
import json
from pathlib import Path
import random
import sys
import time
import traceback

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "custom_components" / "ange_iot"))

from angelib.codecs import CODECS, DecodeError

VECTORS = Path(__file__).resolve().parents[1] / "tests" / "angelib" / "data" / "vectors.json"


def mutate(rng: random.Random, frame: bytes) -> bytes:
    """One random change to a valid frame."""
    data = bytearray(frame)
    choice = rng.randrange(5)
    if choice == 0 and data:  # bit flips
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif choice == 1:  # truncation
        del data[rng.randrange(len(data) + 1) :]
    elif choice == 2:  # random tail
        data += rng.randbytes(rng.randint(1, 16))
    elif choice == 3 and data:  # byte set to an edge value
        data[rng.randrange(len(data))] = rng.choice((0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF))
    else:  # splice two halves
        cut = rng.randrange(len(data) + 1)
        data = data[:cut] + data[cut:][::-1]
    return bytes(data)


def main() -> int:
    """Run the fuzzer; return 1 if anything but DecodeError escaped."""
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__)
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames per codec")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("codecs", nargs="*", default=sorted(CODECS), metavar="CODEC")
    args = parser.parse_args()

    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    failed = False
    print(f"{'codec':<18}{'frames':>10}{'decoded':>10}{'rejected':>10}{'crashed':>9}{'s':>7}")
    for codec_id in args.codecs:
        codec = CODECS[codec_id]
        rng = random.Random(f"{args.seed}:{codec_id}")
        seeds = [
            (v["fport"], bytes.fromhex(v["hex"])) for v in vectors if v["codec"] == codec_id
        ] or [(codec.default_fport, b"")]
        counts: Counter[str] = Counter()
        crashes: list[str] = []
        started = time.perf_counter()
        for n in range(args.frames):
            kind = n % 3
            if kind == 0:
                fport = rng.randrange(256)
                frame = rng.randbytes(rng.randrange(64))
            elif kind == 1:
                fport, frame = rng.choice(seeds)
                frame = mutate(rng, frame)
            else:
                fport, base = rng.choice(seeds)
                frame = base[: rng.randint(0, 3)] + rng.randbytes(rng.randrange(60))
            try:
                codec.decode(fport, frame)
            except DecodeError:
                counts["rejected"] += 1
            except Exception:
                counts["crashed"] += 1
                if len(crashes) < 5:
                    crashes.append(f"fport={fport} hex={frame.hex()}\n{traceback.format_exc()}")
            else:
                counts["decoded"] += 1
        took = time.perf_counter() - started
        print(
            f"{codec_id:<18}{args.frames:>10}{counts['decoded']:>10}"
            f"{counts['rejected']:>10}{counts['crashed']:>9}{took:>7.1f}",
            flush=True,
        )
        for crash in crashes:
            print(crash, file=sys.stderr)
        failed |= bool(counts["crashed"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
