"""Print what a Home Assistant release needs installed to start the way our tests start it.

Run with the python of a venv holding that release (installed with ``--no-deps`` is enough:
nothing of Home Assistant is imported). ``hass --skip-pip`` installs nothing itself, so every
component it loads must find its manifest requirements already installed. Printed, one per
line: the requirements of the components our e2e tests and ``scripts/develop`` load (the
default integrations of ``homeassistant/bootstrap.py``, the entity platforms, the components
``scripts/develop.py`` configures, MQTT, what onboarding adds, and the dependencies of all
these), and those of the auth MFA modules. Pinned as that release's manifests pin them;
``homeassistant/package_constraints.txt`` is applied on top (``-c``) by the caller.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import re
import sys

# Loaded besides the defaults: scripts/develop.py's COMPONENTS and what the e2e tests and
# onboarding add (MQTT, the onboarding integrations, the Supervisor client every backup/MQTT
# import reaches).
EXTRA = {
    "homeassistant", "persistent_notification", "logger", "network", "system_log", "http",
    "api", "auth", "onboarding", "websocket_api", "frontend", "config", "automation",
    "blueprint", "script", "scene", "history", "logbook", "energy", "recorder", "person",
    "mobile_app", "search", "system_health", "webhook", "mqtt", "met", "radio_browser",
    "google_translate", "hassio",
}  # fmt: skip


def main() -> int:
    spec = importlib.util.find_spec("homeassistant")
    if spec is None or not spec.submodule_search_locations:
        print("homeassistant is not installed in this venv", file=sys.stderr)
        return 1
    ha = Path(next(iter(spec.submodule_search_locations)))
    bootstrap = (ha / "bootstrap.py").read_text()
    block = re.search(r"^DEFAULT_INTEGRATIONS = \{(.*?)^\}", bootstrap, re.S | re.M)
    platforms = (ha / "generated" / "entity_platforms.py").read_text()
    if block is None:
        print("cannot find DEFAULT_INTEGRATIONS in bootstrap.py", file=sys.stderr)
        return 1
    todo = sorted(
        set(re.findall(r'^\s*"([a-z0-9_]+)",', block.group(1), re.M))
        | set(re.findall(r'^\s+[A-Z0-9_]+ = "([a-z0-9_]+)"', platforms, re.M))
        | EXTRA
    )
    seen: set[str] = set()
    requirements: set[str] = set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = ha / "components" / domain / "manifest.json"
        if not manifest.is_file():
            print(f"no component {domain!r} in this release", file=sys.stderr)
            return 1
        data = json.loads(manifest.read_text())
        requirements.update(data.get("requirements", []))
        todo.extend(data.get("dependencies", []))
    for module in sorted((ha / "auth" / "mfa_modules").glob("*.py")):
        if found := re.search(r"^REQUIREMENTS = \[(.*?)\]", module.read_text(), re.M):
            requirements.update(re.findall(r'"([^"]+)"', found.group(1)))
    print("\n".join(sorted(requirements, key=str.lower)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
