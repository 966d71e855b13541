"""The pure package never imports Home Assistant (HACS ships it inside the integration)."""

from __future__ import annotations

import ast
from pathlib import Path
import subprocess
import sys

ANGELIB = Path(__file__).resolve().parents[2] / "custom_components" / "ange_iot" / "angelib"


def find_offenders(root: Path) -> list[str]:
    """Every import of homeassistant in the .py files under ``root``."""
    offenders: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(root)}:{node.lineno} {name}"
                for name in names
                if name == "homeassistant" or name.startswith("homeassistant.")
            ]
    return offenders


def test_no_homeassistant_import_in_source() -> None:
    """No module of angelib names homeassistant in an import statement."""
    assert len(list(ANGELIB.rglob("*.py"))) > 10
    assert find_offenders(ANGELIB) == []


def test_whole_package_imports_with_homeassistant_blocked() -> None:
    """Importing every angelib module works in a process where homeassistant cannot load."""
    code = f"""
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "homeassistant" or name.startswith("homeassistant."):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
sys.path.insert(0, {str(ANGELIB.parent)!r})
import angelib
names = [m.name for m in pkgutil.walk_packages(angelib.__path__, "angelib.")]
for name in names:
    importlib.import_module(name)
assert not [m for m in sys.modules if m.startswith("homeassistant")]
print(len(names))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 10


def test_the_check_catches_an_offender(tmp_path: Path) -> None:
    """The scan flags direct and nested imports (a check that cannot fail is no check)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "ok.py").write_text("import json\nfrom .x import homeassistant_like\n")
    (tmp_path / "sub" / "bad.py").write_text(
        "def f():\n    from homeassistant.core import HomeAssistant\n    import homeassistant\n"
    )
    assert find_offenders(tmp_path) == [
        "sub/bad.py:2 homeassistant.core",
        "sub/bad.py:3 homeassistant",
    ]
