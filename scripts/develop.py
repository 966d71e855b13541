"""Start Home Assistant with Ånge IoT on the simulated gateway (see scripts/develop).

Onboarding and the integration's setup go through HA's own onboarding, auth and
config-flow REST APIs, exactly as the frontend would; no ``.storage`` file is written
by hand.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import contextlib
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

REPO = Path(__file__).resolve().parents[1]
DOMAIN = "ange_iot"
USERNAME = "dev"
PASSWORD = "ange-dev-2026"
STARTUP_TIMEOUT_S = 240
STATES_TIMEOUT_S = 120

# What a facility manager uses; each one must load (checked in --smoke).
COMPONENTS = (
    "frontend",
    "config",
    "automation",
    "blueprint",
    "script",
    "scene",
    "history",
    "logbook",
    "energy",
    "recorder",
    "person",
    "mobile_app",
    "search",
    "system_health",
    "webhook",
)

CONFIGURATION_YAML = """\
# Development instance of Ånge IoT (written by scripts/develop; edit freely).
homeassistant:
  name: Ånge IoT (utveckling)
  latitude: 62.5247
  longitude: 15.6598
  elevation: 260
  unit_system: metric
  currency: SEK
  country: SE
  time_zone: Europe/Stockholm
  language: sv

{components}
automation: !include automations.yaml
script: !include scripts.yaml
scene: !include scenes.yaml

{http}
logger:
  default: warning
  logs:
    custom_components.ange_iot: info
    homeassistant.setup: info
"""


def say(message: str) -> None:
    """Progress on stderr."""
    print(f"develop: {message}", file=sys.stderr, flush=True)


class Failure(Exception):
    """The instance did not do what it should; the message says what."""


class HttpError(Failure):
    """The instance answered with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


HTTP_YAML = """http:
  server_host: 127.0.0.1
  server_port: {port}
"""
HTTP_STORED = """# http: server_host: 127.0.0.1, server_port: {port} are kept in Home Assistant's
# storage (confirmed by scripts/develop); change them under Settings → System → Network.
"""


def prepare_config(config_dir: Path, port: int) -> None:
    """Write configuration.yaml (once) and link the integration and blueprints in."""
    config_dir.mkdir(parents=True, exist_ok=True)
    config_file = config_dir / "configuration.yaml"
    wanted_port = f"server_port: {port}"
    if not config_file.exists():
        components = "\n".join(
            f"{c}:" for c in COMPONENTS if c not in ("automation", "script", "scene")
        )
        config_file.write_text(
            CONFIGURATION_YAML.format(components=components, http=HTTP_YAML.format(port=port))
        )
    elif wanted_port not in config_file.read_text():
        raise Failure(f"{config_file} does not serve on port {port}; edit it or set ANGE_PORT")
    for name in ("automations.yaml", "scripts.yaml", "scenes.yaml"):
        path = config_dir / name
        if not path.exists():
            path.write_text("[]\n" if name == "automations.yaml" else "{}\n")
    link(config_dir / "custom_components" / DOMAIN, REPO / "custom_components" / DOMAIN)
    for kind in ("automation", "script"):
        source = REPO / "blueprints" / kind / DOMAIN
        if not source.is_dir():
            continue
        # HA finds blueprints with Path.glob("**/*.yaml"), which does not descend into a
        # symlinked folder: link each file into a real folder instead.
        kind_folder = config_dir / "blueprints" / kind
        if not kind_folder.exists():
            # HA copies its example blueprints only into a folder that does not exist
            # yet; since ours is created first, copy them as HA would.
            import homeassistant

            examples = Path(homeassistant.__file__).parent / "components" / kind / "blueprints"
            if examples.is_dir():
                shutil.copytree(examples, kind_folder / "homeassistant")
        folder = kind_folder / DOMAIN
        if folder.is_symlink():
            folder.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.yaml"):
            if stale.is_symlink() and not stale.exists():
                stale.unlink()
        for blueprint in source.glob("*.yaml"):
            link(folder / blueprint.name, blueprint)


def link(path: Path, target: Path) -> None:
    """Symlink ``path`` → ``target`` (replacing a stale link)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        if path.is_symlink() and path.resolve() == target.resolve():
            return
        if path.is_symlink() or path.is_file():
            path.unlink()
        else:
            shutil.rmtree(path)
    path.symlink_to(target, target_is_directory=target.is_dir())


class Api:
    """A tiny client of HA's REST API (stdlib only)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        form: bool = False,
        raw: bool = False,
        timeout: float = 30,
    ) -> Any:
        data = None
        headers = {}
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:500]
            raise HttpError(f"{method} {path} answered {err.code}: {detail}", err.code) from None
        if raw:
            return text
        return json.loads(text) if text else None


def start_hass(
    config_dir: Path,
    log_file: Path,
    *,
    quiet: bool,
    new_session: bool = False,
    preexec_fn: Callable[[], object] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the venv's ``hass`` on ``config_dir`` (``--skip-pip``); returns the process.

    ``quiet`` discards its console output (the log file has everything); ``new_session``
    puts it in its own process group, so a caller can kill the group; ``preexec_fn`` runs
    in the child before exec (the e2e tests tie its life to theirs with it); ``env`` is
    added to this process's environment.
    """
    hass = Path(sys.executable).with_name("hass")
    return subprocess.Popen(
        [str(hass), "--config", str(config_dir), "--skip-pip", "--log-file", str(log_file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
        start_new_session=new_session,
        preexec_fn=preexec_fn,  # noqa: PLW1509 (the caller's choice; None by default)
        env={**os.environ, **env} if env else None,
    )


def wait_for_http(api: Api, proc: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f"hass exited with code {proc.returncode}; see {log_file}")
        try:
            # Any HTTP answer means the server is up: /auth/providers needs no auth and
            # exists before and after onboarding (400 until then); /api/onboarding is gone
            # once onboarding is finished.
            api.request("GET", "/auth/providers", timeout=5)
            return
        except HttpError:
            return
        except (Failure, OSError):
            time.sleep(0.5)
    raise Failure(f"Home Assistant did not answer within {STARTUP_TIMEOUT_S} s; see {log_file}")


def wait_running(
    api: Api, proc: subprocess.Popen[bytes], timeout: float = STARTUP_TIMEOUT_S
) -> None:
    """Wait until Home Assistant has started (core state RUNNING); needs a logged-in ``api``.

    The HTTP API answers while HA is still bootstrapping, and until it runs
    ``homeassistant.stop`` (and SIGTERM) are ignored without a word.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f"hass exited with code {proc.returncode}")
        if api.request("GET", "/api/config", timeout=10).get("state") == "RUNNING":
            return
        time.sleep(0.25)
    raise Failure(f"Home Assistant did not finish starting within {timeout:g} s")


def authenticate(api: Api) -> bool:
    """Finish onboarding if needed (HA's onboarding API), then log in as the dev user.

    Returns whether onboarding ran now (a fresh instance).
    """
    client_id = api.base + "/"
    try:
        steps = {s["step"]: s["done"] for s in api.request("GET", "/api/onboarding")}
    except HttpError as err:
        if err.status != 404:
            raise
        # Onboarding is finished: HA no longer serves its API.
        steps = dict.fromkeys(("user", "core_config", "analytics", "integration"), True)
    if not steps.get("user"):
        say("onboarding: creating the dev user")
        result = api.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": client_id,
                "name": "Utvecklare",
                "username": USERNAME,
                "password": PASSWORD,
                "language": "sv",
            },
        )
        code = result["auth_code"]
    else:
        flow = api.request(
            "POST",
            "/auth/login_flow",
            {"client_id": client_id, "handler": ["homeassistant", None], "redirect_uri": client_id},
        )
        result = api.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": client_id, "username": USERNAME, "password": PASSWORD},
        )
        if result.get("type") != "create_entry":
            raise Failure(f"cannot log in as {USERNAME!r}: {result.get('errors')}")
        code = result["result"]
    token = api.request(
        "POST",
        "/auth/token",
        {"grant_type": "authorization_code", "code": code, "client_id": client_id},
        form=True,
    )
    api.token = token["access_token"]
    for step, path, body in (
        ("core_config", "/api/onboarding/core_config", {}),
        ("analytics", "/api/onboarding/analytics", {}),
        (
            "integration",
            "/api/onboarding/integration",
            {"client_id": client_id, "redirect_uri": client_id},
        ),
    ):
        if not steps.get(step):
            api.request("POST", path, body)
    say("onboarding: done")
    return not steps.get("user")


# The areas onboarding creates for a home (Vardagsrum, Kök, Sovrum), named in the user's
# language and known by their icons; the demo building brings its own (one per apartment),
# so these would only clutter it.
ONBOARDING_AREA_ICONS = ("mdi:sofa", "mdi:stove", "mdi:bed")


def remove_onboarding_areas(api: Api) -> None:
    """Delete onboarding's default areas through HA's area registry API (fresh instance)."""
    for area in ws_command(api, {"type": "config/area_registry/list"}):
        if area.get("icon") in ONBOARDING_AREA_ICONS:
            ws_command(api, {"type": "config/area_registry/delete", "area_id": area["area_id"]})
            say(f"removed onboarding's default area {area['name']!r}")


def confirm_http_config(api: Api, config_file: Path) -> bool:
    """Confirm the HTTP settings (127.0.0.1, port) as the user would in HA's dialog.

    Home Assistant 2026.10 moves YAML ``http:`` settings into its storage as a trial that
    reverts after five minutes unless confirmed, and would then listen on every address.
    Confirm it over HA's websocket API and drop the block from configuration.yaml, which HA
    ignores from now on (keeping it would raise a repair notice at every start).
    Returns True when it dropped the block now: HA's "HTTP YAML configuration is
    deprecated" repair then clears at the next start (HA removes it itself).
    """
    config = ws_command(api, {"type": "http/config"})
    if config.get("pending") and not config["pending"].get("error"):
        ws_command(api, {"type": "http/config/promote"})
        say("confirmed the HTTP settings (127.0.0.1 only)")
    port = api.base.rsplit(":", 1)[1]
    text = config_file.read_text()
    block = HTTP_YAML.format(port=port)
    if block in text:
        config_file.write_text(text.replace(block, HTTP_STORED.format(port=port)))
        return True
    return False


def restart(
    api: Api, proc: subprocess.Popen[bytes], config_dir: Path, log_file: Path, *, quiet: bool
) -> subprocess.Popen[bytes]:
    """Restart Home Assistant as a user would (``homeassistant.restart``); the new process.

    ``hass`` exits with code 100 to be restarted by whoever started it: here, this script.
    """
    say("restarting Home Assistant once (HTTP settings now in its storage, no YAML)")
    wait_running(api, proc)
    with contextlib.suppress(Failure, OSError):  # the connection may close while it stops
        api.request("POST", "/api/services/homeassistant/restart", {}, timeout=30)
    try:
        code = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise Failure("Home Assistant did not stop for its restart within 120 s") from None
    if code != 100:
        raise Failure(f"Home Assistant exited with code {code} instead of restarting")
    proc = start_hass(config_dir, log_file, quiet=quiet)
    wait_for_http(api, proc, log_file)
    authenticate(api)
    return proc


def ensure_simulated_gateway(api: Api) -> None:
    """Add the simulated gateway and its demo building through the integration's flows."""
    entries = api.request("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
    if entries:
        return
    say("setting up Ånge IoT on the simulated gateway (config flow)")
    flow = api.request("POST", "/api/config/config_entries/flow", {"handler": DOMAIN})
    if flow.get("type") != "menu":
        raise Failure(f"config flow started with {flow.get('type')}, expected the gateway menu")
    flow = api.request(
        "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"next_step_id": "simulated"}
    )
    sys.path.insert(0, str(REPO / "custom_components" / DOMAIN))
    from angelib.simulator import (
        DEMO_LEAKING_METER,
        DEMO_NOT_UP,
        DEMO_QUICK_SPEED,
    )

    flow = api.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {"name": "Ånge LSS demo", "speed": DEMO_QUICK_SPEED},
    )
    if flow.get("type") != "create_entry":
        raise Failure(f"config flow ended with {flow}")
    ensure_demo_generic_sensor(api, flow["result"]["entry_id"])
    # The quick start: what a newcomer should see within minutes, switched on in the
    # gateway's options as a user would (turn them off there for a calm site).
    options = api.request(
        "POST", "/api/config/config_entries/options/flow", {"handler": flow["result"]["entry_id"]}
    )
    options = api.request(
        "POST",
        f"/api/config/config_entries/options/flow/{options['flow_id']}",
        {
            "speed": DEMO_QUICK_SPEED,
            "resident_not_up": DEMO_NOT_UP,
            "silent_device": "none",
            "leaking_meter": DEMO_LEAKING_METER,
            "snowfall": True,
        },
    )
    if options.get("type") != "create_entry":
        raise Failure(f"gateway options ended with {options}")
    say(
        f"demo scenarios on at {DEMO_QUICK_SPEED}×: {DEMO_NOT_UP}'s resident does not get up, "
        "a toilet runs, it snows"
    )
    ensure_demo_building(api)


def ensure_demo_generic_sensor(api: Api, gateway_entry_id: str) -> None:
    """Add the demo's CO₂ sensor, a model outside the catalogue, as a generic device.

    Its "network server" decodes it into ``object``; it is added with Add sensor like any
    sensor a facility manager has no catalogue model for. Its fields appear as entities with
    its first uplink.
    """
    sys.path.insert(0, str(REPO / "custom_components" / DOMAIN))
    from angelib.simulator import DEMO_GENERIC_DEVICES

    for device in DEMO_GENERIC_DEVICES:
        say(f"adding {device.name} ({device.profile_name}) as a generic device")
        subentry_flow(
            api,
            gateway_entry_id,
            "device",
            {
                "dev_eui": device.dev_eui,
                "name": device.name,
                "model": device.model_id,
                "missed_reports": 3,
            },
            {"invert_door": False},  # the generic device's own settings (second form)
        )


def ensure_demo_building(api: Api) -> None:
    """The demo group home as a building with care checks, one apartment per demo flat.

    Set up with the building flow and the apartment subentry flow, as a facility manager
    would. Daytime inactivity is 6 h here: the demo residents spend about 5 h at their
    daily activity on weekdays (a real site sets this per resident). The apartment of the
    quick start's "resident does not get up" has settings of its own (DEMO_NOT_UP_SETTINGS).
    """
    sys.path.insert(0, str(REPO / "custom_components" / DOMAIN))
    from angelib.simulator import (
        APARTMENTS,
        DEMO_BUILDING,
        DEMO_DEVICES,
        DEMO_NOT_UP,
        DEMO_NOT_UP_SETTINGS,
        Role,
    )

    say("adding the demo building and its apartments (care checks)")
    flow = api.request("POST", "/api/config/config_entries/flow", {"handler": DOMAIN})
    flow = api.request(
        "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"next_step_id": "building"}
    )
    flow = api.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "name": DEMO_BUILDING,
            "morning_start": "06:00:00",
            "morning_deadline": "09:00:00",
            "active_start": "07:00:00",
            "active_end": "22:00:00",
            "inactivity_limit": {"hours": 6, "minutes": 0, "seconds": 0},
            "grace": {"hours": 0, "minutes": 15, "seconds": 0},
            "night_door": False,
            "night_start": "23:00:00",
            "night_end": "05:00:00",
        },
    )
    if flow.get("type") != "create_entry":
        raise Failure(f"building flow ended with {flow}")
    entry_id = flow["result"]["entry_id"]
    for apartment in APARTMENTS:
        sensors = [
            d.dev_eui
            for d in DEMO_DEVICES
            if d.area == apartment and d.role in (Role.MOTION, Role.DOOR)
        ]
        subentry_flow(
            api,
            entry_id,
            "apartment",
            {
                "label": apartment,
                "sensors": sensors,
                "enabled": True,
                "morning_check": True,
                "inactivity_check": True,
                "night_door": False,
                # The apartment whose resident does not get up checks for 2 min without
                # activity at any hour, so its alert shows within minutes (real time); the
                # form keeps an apartment's own times in a (collapsed) section.
                "own_times": dict(DEMO_NOT_UP_SETTINGS) if apartment == DEMO_NOT_UP else {},
            },
        )
    say("adding the demo water meters and the parking lot (snow clearing)")
    meters = [d for d in DEMO_DEVICES if d.role in (Role.BUILDING_METER, Role.APARTMENT_METER)]
    for meter in meters:
        # The main meter is the building's consumption; apartment meters sit behind it.
        subentry_flow(
            api,
            entry_id,
            "water_meter",
            {
                "dev_eui": meter.dev_eui,
                "counted": meter.role is Role.BUILDING_METER,
                "continuous_by_design": False,
            },
        )
    subentry_flow(
        api,
        entry_id,
        "snow_site",
        {
            "name": "Parkering",
            "sensors": [d.dev_eui for d in DEMO_DEVICES if d.role is Role.SNOW],
            "threshold_cm": 8,
            "min_rise_cm": 5,
        },
    )


def subentry_flow(
    api: Api, entry_id: str, kind: str, data: dict[str, Any], *more: dict[str, Any]
) -> None:
    """Run one subentry flow to its end, as the UI would (``more``: its later forms)."""
    sub = api.request(
        "POST", "/api/config/config_entries/subentries/flow", {"handler": [entry_id, kind]}
    )
    for form in (data, *more):
        sub = api.request(
            "POST", f"/api/config/config_entries/subentries/flow/{sub['flow_id']}", form
        )
    if sub.get("type") != "create_entry":
        raise Failure(f"{kind} flow ended with {sub}")


def ws_command(api: Api, command: dict[str, Any]) -> Any:
    """One command over HA's websocket API (what the frontend uses); returns ``result``."""
    import asyncio

    import aiohttp  # in the venv with Home Assistant

    async def run() -> Any:
        url = api.base.replace("http", "ws", 1) + "/api/websocket"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": api.token})
            if (await ws.receive_json()).get("type") != "auth_ok":
                raise Failure("websocket authentication failed")
            await ws.send_json({"id": 1, **command})
            reply = await ws.receive_json()
            if not reply.get("success"):
                raise Failure(f"websocket {command['type']} failed: {reply.get('error')}")
            return reply["result"]

    # A private loop: never replaces the caller's current event loop (as asyncio.run would).
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(run())


def render(api: Api, template: str) -> str:
    """Render a template on the instance (HA's /api/template answers plain text)."""
    return str(api.request("POST", "/api/template", {"template": template}, raw=True))


def check_demo_states(api: Api) -> list[str]:
    """Wait until the demo entities have real states; return what is still wrong."""
    deadline = time.monotonic() + STATES_TIMEOUT_S
    problems: list[str] = ["no entities yet"]
    while time.monotonic() < deadline:
        ids = json.loads(render(api, "{{ integration_entities('ange_iot') | list | to_json }}"))
        states = {s["entity_id"]: s for s in api.request("GET", "/api/states")}
        # Entity ids follow the instance's language; unique ids do not.
        unique_ids = {
            e["entity_id"]: e.get("unique_id", "")
            for e in ws_command(api, {"type": "config/entity_registry/list"})
            if e.get("platform") == DOMAIN
        }
        problems = demo_problems([states[i] for i in ids if i in states]) + building_problems(
            states, unique_ids
        )
        if not problems:
            return []
        time.sleep(2)
    return problems


def demo_problems(states: list[dict[str, Any]]) -> list[str]:
    """What a newcomer would see as broken in the demo building, if anything."""
    problems = []
    by_class: dict[str, list[dict[str, Any]]] = {}
    for state in states:
        domain = state["entity_id"].split(".")[0]
        device_class = state["attributes"].get("device_class", "")
        by_class.setdefault(f"{domain}.{device_class}", []).append(state)
        if state["state"] == "unavailable" and domain != "button":
            problems.append(f"{state['entity_id']} is unavailable")

    def numeric(key: str, expected: int, lo: float, hi: float) -> None:
        values = by_class.get(key, [])
        good = [s for s in values if _in_range(s["state"], lo, hi)]
        if len(good) < expected:
            bad = [f"{s['entity_id']}={s['state']}" for s in values if s not in good]
            problems.append(f"{key}: {len(good)} of {expected} expected in range {lo}..{hi} {bad}")

    valid = {"ok", "check_needed", "acknowledged", "paused", "sensor_offline"}
    enums = by_class.get("sensor.enum", [])
    care = [s for s in enums if set(s["attributes"].get("options", [])) == valid]
    if len([s for s in care if s["state"] in valid]) < 6:
        problems.append(f"care status of the 6 demo apartments: {[s['state'] for s in care]}")
    numeric("sensor.temperature", 7, 10, 35)  # 6 ERS + the door strip
    numeric("sensor.humidity", 6, 10, 90)
    numeric("sensor.water", 7, 1, 10_000)  # 6 flowIQ + 1 W1, m³
    numeric("sensor.distance", 4, 0, 2000)  # 2 distance (mm) + 2 snow depth (cm)
    numeric("sensor.battery", 3, 1, 100)  # the door strip, the snow and distance sensors (%)
    numeric("sensor.voltage", 6, 2, 4)  # the 6 ERS report battery volts
    # Radio diagnostics (RSSI, SNR) are off by default, as in core: README "Performance".
    if by_class.get("sensor.signal_strength"):
        problems.append("signal strength entities are enabled by default")
    numeric("sensor.carbon_dioxide", 1, 300, 2000)  # the generic CO₂ sensor's decoded object
    # Motion, presence and door entities are off by default (a resident's activity: README
    # "Privacy"); the care status above shows the motion and door reports arrive.
    if by_class.get("binary_sensor.motion") or by_class.get("binary_sensor.door"):
        problems.append("motion or door entities are enabled by default")
    return problems


def building_problems(states: dict[str, Any], unique_ids: dict[str, str]) -> list[str]:
    """The demo building's water and snow entities must exist and not be unavailable."""
    problems = []
    for key in (
        "meter_alerts",
        "water_consumption",
        "meters_in_alert",
        "site_snow_depth",
        "snow_clearing",
    ):
        found = [e for e, unique_id in unique_ids.items() if unique_id.endswith(f"_{key}")]
        if not found:
            problems.append(f"no {key} entity (water meters or snow site not set up)")
        elif any(states.get(e, {}).get("state", "unavailable") == "unavailable" for e in found):
            problems.append(f"{key} is unavailable: {found}")
    return problems


def newcomer_problems(api: Api) -> list[str]:
    """No repair badge (HTTP YAML), no onboarding areas, a care board with every apartment."""
    problems = []
    issues = ws_command(api, {"type": "repairs/list_issues"})["issues"]
    if http := [i["issue_id"] for i in issues if i["domain"] == "http" and not i["ignored"]]:
        problems.append(f"HTTP repair notices: {http}")
    areas = ws_command(api, {"type": "config/area_registry/list"})
    if leftover := [a["name"] for a in areas if a.get("icon") in ONBOARDING_AREA_ICONS]:
        problems.append(f"onboarding's default areas are still there: {sorted(leftover)}")
    board = ws_command(api, {"type": "lovelace/config", "url_path": "ange-iot-care-board"})
    tiles = {
        card["card"]["name"]
        for view in board.get("views", [])
        for section in view.get("sections", [])
        for card in section.get("cards", [])
        if card.get("type") == "conditional"
    }
    if len(tiles) != 6:
        problems.append(f"the care board shows {sorted(tiles)}, not the 6 demo apartments")
    return problems


def _in_range(value: str, lo: float, hi: float) -> bool:
    try:
        return lo <= float(value) <= hi
    except ValueError:
        return False


# Checked runs (--smoke, the e2e tests) show Python warnings once per place (Python hides
# DeprecationWarning by default); Home Assistant logs them as ``[py.warnings]``.
CHECKED_ENV = {"PYTHONWARNINGS": "default"}
# What Home Assistant's frame helper logs when an integration uses a deprecated API.
REPORT_MARK = f"Detected that custom integration '{DOMAIN}'"


def integration_problems(lines: list[str]) -> list[str]:
    """The log lines that fail a checked run: an ERROR about a custom integration, Home
    Assistant reporting our use of a deprecated API, or a Python warning from our code.
    """
    problems = []
    for line in lines:
        ours = DOMAIN in line or "custom_components" in line
        if (
            (" ERROR " in line and ours)
            or REPORT_MARK in line
            or ("[py.warnings]" in line and ours)
        ):
            problems.append(line)
    return problems


def errors_in_log(log_file: Path) -> list[str]:
    if not log_file.exists():
        return []
    return integration_problems(log_file.read_text(errors="replace").splitlines())


def stop(proc: subprocess.Popen[bytes], api: Api) -> int:
    """Stop HA the way a user would (homeassistant.stop), then wait for the process."""
    try:
        wait_running(api, proc)
        api.request("POST", "/api/services/homeassistant/stop", {}, timeout=10)
    except (Failure, OSError):
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failure("Home Assistant did not stop within 90 s") from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="start, check, stop (headless)")
    args = parser.parse_args()

    smoke = args.smoke
    port = int(os.environ.get("ANGE_PORT") or (free_port() if smoke else 8123))
    temp_dir = None
    if os.environ.get("ANGE_CONFIG_DIR"):
        config_dir = Path(os.environ["ANGE_CONFIG_DIR"]).resolve()
    elif smoke:
        temp_dir = tempfile.TemporaryDirectory(prefix="ange-smoke-")
        config_dir = Path(temp_dir.name)
    else:
        config_dir = REPO / "config"
    base = f"http://127.0.0.1:{port}"
    log_file = config_dir / "home-assistant.log"
    try:
        prepare_config(config_dir, port)
        say(f"starting Home Assistant (config {config_dir})")
        proc = start_hass(config_dir, log_file, quiet=smoke, env=CHECKED_ENV if smoke else None)
        api = Api(base)
        try:
            wait_for_http(api, proc, log_file)
            if authenticate(api):
                remove_onboarding_areas(api)
            if confirm_http_config(api, config_dir / "configuration.yaml"):
                proc = restart(api, proc, config_dir, log_file, quiet=smoke)
            ensure_simulated_gateway(api)
            if smoke:
                return smoke_check(api, proc, log_file)
            print(
                f"\n  Home Assistant with Ånge IoT: {base}\n"
                f"  user: {USERNAME}   password: {PASSWORD}\n"
                f"  config: {config_dir}   log: {log_file}\n"
                "  Stop with Ctrl+C.\n",
                flush=True,
            )
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGTERM)
            return proc.wait(timeout=90)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    proc.kill()
    except Failure as err:
        say(f"FAILED: {err}")
        if smoke and log_file.exists():
            tail = log_file.read_text(errors="replace").splitlines()[-40:]
            print("\n".join(tail), file=sys.stderr)
        return 1
    finally:
        if temp_dir is not None:
            temp_dir.cleanup()


def smoke_check(api: Api, proc: subprocess.Popen[bytes], log_file: Path) -> int:
    wait_running(api, proc)  # with an onboarded config the API answers before setups end
    loaded = set(api.request("GET", "/api/config")["components"])
    missing = [c for c in (*COMPONENTS, DOMAIN) if c not in loaded]
    if missing:
        raise Failure(f"components not loaded: {', '.join(missing)}")
    problems = check_demo_states(api)
    if problems:
        raise Failure("demo entities not right:\n  " + "\n  ".join(problems))
    say("demo entities have real states")
    if problems := newcomer_problems(api):
        raise Failure("what a newcomer sees is not right:\n  " + "\n  ".join(problems))
    say("no repair notices, no onboarding areas, the care board is served")
    blueprints = ws_command(api, {"type": "blueprint/list", "domain": "automation"})
    if not any(p.startswith("homeassistant/") for p in blueprints):
        raise Failure(f"Home Assistant's own example blueprints are missing: {sorted(blueprints)}")
    ours = sorted(p for p in blueprints if p.startswith(f"{DOMAIN}/"))
    shipped = sorted(
        f"{DOMAIN}/{p.name}" for p in (REPO / "blueprints" / "automation" / DOMAIN).glob("*.yaml")
    )
    if ours != shipped or any("error" in blueprints[p] for p in ours):
        raise Failure(f"blueprints not available: instance has {ours}, repo ships {shipped}")
    say(f"blueprints available: {', '.join(ours)}")
    code = stop(proc, api)
    if code != 0:
        raise Failure(f"Home Assistant exited with code {code} after stop")
    if errors := errors_in_log(log_file):
        raise Failure(
            "errors, deprecation reports or warnings from the integration in the log:\n  "
            + "\n  ".join(errors)
        )
    say("smoke test passed: started, demo live, stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
