"""Run the benchmarks: ``scripts/bench`` (``python -m bench``).

    scripts/bench                      # every section, full size (≈ 10 min on 2 cores)
    scripts/bench --quick              # small sizes: a smoke run (≈ 1 min)
    scripts/bench --only codecs,ingest # some sections
    scripts/bench --json out.json      # where the figures go (default bench-results.json)

Sections run in this order: codecs, ingest, scale, care (``bench/<name>.py``; a section whose
module is missing is skipped). Each section runs in a fresh interpreter (``python -m bench
--section NAME``) so no section's memory, caches or threads leak into the next one's figures;
the ingest section additionally runs each Home Assistant in a process of its own.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from pathlib import Path
import shlex
import subprocess
import sys
import time
import traceback
from types import ModuleType
from typing import Any

from .common import REPO, format_table, machine_info

SECTIONS = ("codecs", "ingest", "scale", "care")


BROKEN: dict[str, str] = {}  # sections whose module exists but does not import


def available_sections() -> dict[str, ModuleType]:
    """The section modules that exist and import, in run order (see ``BROKEN``)."""
    found = {}
    for name in SECTIONS:
        try:
            found[name] = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"bench.{name}":
                BROKEN[name] = f"{type(err).__name__}: {err}"
        except Exception as err:  # one broken section must not stop the rest
            BROKEN[name] = f"{type(err).__name__}: {err}"
    return found


def build_parser(sections: dict[str, ModuleType]) -> argparse.ArgumentParser:
    """Common flags plus each section's own (prefixed with its name)."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmarks of Ånge IoT (issue #7): prints tables, writes JSON.",
    )
    parser.add_argument(
        "--only", help=f"comma-separated sections to run (of {', '.join(sections)})"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--json",
        type=Path,
        default=REPO / "bench-results.json",
        help="where to write every figure (default: bench-results.json in the repo)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run sections in this process instead of one fresh interpreter each",
    )
    parser.add_argument("--section", help=argparse.SUPPRESS)  # internal: run one section
    parser.add_argument("--section-result", type=Path, help=argparse.SUPPRESS)
    for module in sections.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    return parser


def run_section(module: ModuleType, args: argparse.Namespace) -> dict[str, Any]:
    """Run one section here; its figures, or the error it raised."""
    started = time.monotonic()
    try:
        result: dict[str, Any] = module.run(args)
    except Exception as err:
        traceback.print_exc()
        result = {"error": f"{type(err).__name__}: {err}"}
    result.setdefault("seconds", round(time.monotonic() - started, 1))
    return result


def run_section_subprocess(name: str, argv: list[str]) -> dict[str, Any]:
    """Run one section in a fresh interpreter (same flags); its figures."""
    result_file = REPO / f".bench-section-{name}-{os.getpid()}.json"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench", *argv, "--section", name,
             "--section-result", str(result_file)],
            cwd=REPO,
            check=False,
        )  # fmt: skip
        if result_file.exists():
            data: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
            return data
        return {"error": f"section process exited with {proc.returncode}"}
    finally:
        result_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run the sections, print the tables, write the JSON."""
    argv = list(sys.argv[1:] if argv is None else argv)
    sections = available_sections()
    args = build_parser(sections).parse_args(argv)

    if args.section:  # a child running one section
        result = run_section(sections[args.section], args)
        args.section_result.write_text(json.dumps(result, indent=1), encoding="utf-8")
        return 0

    wanted = [s.strip() for s in args.only.split(",")] if args.only else list(sections)
    unknown = [s for s in wanted if s not in sections and s not in BROKEN]
    if unknown:
        print(f"unknown or missing sections: {', '.join(unknown)}", file=sys.stderr)
        return 2
    info = machine_info()
    command = "scripts/bench " + shlex.join(argv) if argv else "scripts/bench"
    print(f"Ånge IoT benchmarks — {info['date']}")
    print(
        f"{info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
        f"{info['memory_gib']} GiB; Python {info['python']}, Home Assistant "
        f"{info['home_assistant']}, Mosquitto {info['mosquitto']}, load {info['load_average']}"
    )
    print(f"command: {command}\n", flush=True)
    results: dict[str, Any] = {
        "machine": info,
        "command": command,
        "argv": argv,
        "quick": args.quick,
        "sections": {},
    }
    status = 0
    for name, error in BROKEN.items():
        if name in wanted or not args.only:
            status = 1
            results["sections"][name] = {"error": f"does not import: {error}"}
            print(f"== {name}: FAILED to import: {error}\n", flush=True)
    for name in (s for s in sections if s in wanted):
        module = sections[name]
        print(f"== {name} ...", file=sys.stderr, flush=True)
        if args.in_process:
            result = run_section(module, args)
        else:
            result = run_section_subprocess(name, argv)
        results["sections"][name] = result
        title = getattr(module, "TITLE", name)
        if "error" in result:
            status = 1
            print(f"{title}\n  FAILED: {result['error']}\n", flush=True)
            continue
        try:
            table = format_table(title, module.rows(result))
        except Exception as err:
            table = f"{title}\n  (no table: {type(err).__name__}: {err})"
            status = 1
        print(f"{table}\n  ({result.get('seconds', '?')} s)\n", flush=True)
    results["finished"] = machine_info()["date"]
    args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"figures written to {args.json}")
    return status


if __name__ == "__main__":
    sys.exit(main())
