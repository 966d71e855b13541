"""Section 1: codec throughput, frames per second per codec (pure Python, one core).

The frame set per codec: the fact sheet's vectors (``tests/angelib/data/vectors.json``, the
committed copy of ``shared/specs/vectors.json``; vectors that must be refused are left
out) plus the distinct frames the demo site's simulator sends over two simulated days
(``angelib.simulator``: Elsys ERS, Sensative Strips, Kamstrup flowIQ, Axioma W1, Milesight
EM500-UDL; the Decentlab MBX has vectors only). One pass decodes every frame of the set
once; passes repeat for at least ``--codecs-min-time`` seconds; the figure is the best of
``--codecs-repeats`` such runs (the least disturbed by other processes).
"""

from __future__ import annotations

import argparse
import base64
from datetime import UTC, datetime, timedelta
import gc
import json
import time
from typing import Any

from .common import REPO, fmt, load_angelib

NAME = "codecs"
TITLE = "1. Codec throughput (pure Python, frames/s on one core)"

VECTORS = REPO / "tests" / "angelib" / "data" / "vectors.json"
SHEET = REPO.parent / "shared" / "specs" / "vectors.json"
SIM_HOURS = 48


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of this section."""
    group = parser.add_argument_group("codecs")
    group.add_argument("--codecs-repeats", type=int, default=None, help="runs per codec (5)")
    group.add_argument("--codecs-min-time", type=float, default=None, help="seconds per run (0.3)")


def frame_sets() -> dict[str, dict[str, Any]]:
    """Per codec: the frames to decode and where they came from."""
    angelib = load_angelib()
    codecs = angelib.codecs.CODECS
    sets: dict[str, dict[str, Any]] = {
        cid: {"frames": [], "vectors": 0, "simulator": 0, "refused": 0} for cid in codecs
    }
    seen: set[tuple[str, int, bytes]] = set()
    vectors: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))
    if SHEET.is_file():
        vectors += json.loads(SHEET.read_text(encoding="utf-8"))
    for vector in vectors:
        key = (vector["codec"], int(vector["fport"]), bytes.fromhex(vector["hex"]))
        if key in seen:
            continue
        seen.add(key)
        if isinstance(vector["expected"], dict) and vector["expected"].get("error"):
            sets[key[0]]["refused"] += 1
            continue
        sets[key[0]]["frames"].append(key[1:])
        sets[key[0]]["vectors"] += 1
    simulator = angelib.simulator
    models = angelib.catalog.MODELS
    start = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    sim = simulator.Simulator(seed=2026, start=start)
    for message in sim.advance(start + timedelta(hours=SIM_HOURS)):
        device = sim.devices[message.dev_eui]
        codec_id = models[device.model_id].codec
        event = message.event
        key = (codec_id, int(event.get("fPort", 0)), base64.b64decode(event.get("data", "")))
        if key in seen:
            continue
        seen.add(key)
        sets[codec_id]["frames"].append(key[1:])
        sets[codec_id]["simulator"] += 1
    return sets


def measure(decode: Any, frames: list[tuple[int, bytes]], repeats: int, min_time: float) -> float:
    """Best frames/s of ``repeats`` runs of at least ``min_time`` seconds each."""
    best = 0.0
    for _ in range(repeats):
        passes = 0
        started = time.perf_counter()
        while True:
            for fport, payload in frames:
                decode(fport, payload)
            passes += 1
            elapsed = time.perf_counter() - started
            if elapsed >= min_time:
                break
        best = max(best, passes * len(frames) / elapsed)
    return best


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Decode every codec's frame set; frames/s and µs/frame per codec."""
    quick = bool(getattr(args, "quick", False))
    repeats = getattr(args, "codecs_repeats", None) or (2 if quick else 5)
    min_time = getattr(args, "codecs_min_time", None) or (0.05 if quick else 0.3)
    codecs = load_angelib().codecs.CODECS
    results: dict[str, Any] = {}
    gc.collect()
    for codec_id, info in sorted(frame_sets().items()):
        frames = info["frames"]
        decode = codecs[codec_id].decode
        for fport, payload in frames:  # every frame must decode: a failure is a bug
            decode(fport, payload)
        rate = measure(decode, frames, repeats, min_time) if frames else 0.0
        results[codec_id] = {
            "frames_per_s": rate,
            "us_per_frame": 1e6 / rate if rate else None,
            "frames": len(frames),
            "from_vectors": info["vectors"],
            "from_simulator": info["simulator"],
            "refusal_vectors_skipped": info["refused"],
            "mean_frame_bytes": (sum(len(p) for _, p in frames) / len(frames)) if frames else 0,
        }
    return {
        "codecs": results,
        "repeats": repeats,
        "min_time_s": min_time,
        "simulated_hours": SIM_HOURS,
        "method": "best of repeats; each run decodes the whole set in passes for >= min_time",
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """One row per codec."""
    out = []
    for codec_id, figures in result["codecs"].items():
        out.append(
            (
                f"{codec_id} (frames/s)",
                f"{fmt(figures['frames_per_s'])} ({fmt(figures['us_per_frame'], 1)} µs)",
                "—",
                f"{figures['frames']} frames: {figures['from_vectors']} vectors "
                f"+ {figures['from_simulator']} simulator",
            )
        )
    return out
