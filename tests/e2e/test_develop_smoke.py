"""The README's first command, headless: a real hass with the demo site comes up and stops."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_develop_smoke(tmp_path: Path) -> None:
    """`scripts/develop --smoke` exits 0: onboarded, demo entities live, clean stop."""
    env = {k: v for k, v in os.environ.items() if k not in ("ANGE_PORT", "ANGE_CONFIG_DIR")}
    env["ANGE_CONFIG_DIR"] = str(tmp_path / "config")
    result = subprocess.run(
        [str(REPO / "scripts" / "develop"), "--smoke"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "smoke test passed" in result.stderr
    # What a newcomer sees (checked inside --smoke too): onboarding's areas gone, the HTTP
    # settings out of YAML (so no repair notice), the quick-start scenarios on.
    assert result.stderr.count("removed onboarding's default area") == 3
    assert "\nhttp:" not in (tmp_path / "config" / "configuration.yaml").read_text()
    assert "no repair notices, no onboarding areas, the care board is served" in result.stderr
    assert "demo scenarios on at 360×" in result.stderr
    log = (tmp_path / "config" / "home-assistant.log").read_text()
    assert "Setup of domain ange_iot took" in log
    assert not [line for line in log.splitlines() if " ERROR " in line and "ange_iot" in line]
