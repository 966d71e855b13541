"""What a facility manager and care staff see, in a real Chromium, in Swedish and English.

One module-scoped site (``site``): a private Mosquitto broker and a real ``hass`` on
127.0.0.1, onboarded and set up exactly as ``scripts/develop`` does it (the simulated gateway
and the demo building "Gruppbostad Solbacken" through the integration's own flows), plus
HA's MQTT integration pointed at the broker so the MQTT gateway forms open. Debian's
``chromium`` (``scripts/bootstrap --with-chromium``) is driven by Playwright for Python.

Each test opens one page (or dialog) in one language, writes a screenshot to
``test-artifacts/screenshots/<lang>/<page>.png`` (git-ignored; the page's text beside it as
``<page>.txt``) and fails on:

- any ICU/formatjs rendering error in the page's text, read across every shadow root
  ("Translation error", ``MISSING_VALUE``, ``UNCLOSED_TAG``, ...);
- an untranslated key of ours (``component.ange_iot.…`` or ``ange_iot.config.…``-like text);
- on a Swedish page, a line that is one of our English strings (mixed languages);
- a browser console error or uncaught page error about translations or our integration, and
  an ERROR line of the same kind in HA's log from ``frontend.js`` or from HA's translation
  loader (which drops a Swedish string for the English one when their placeholders differ);
  all other console errors are written to ``test-artifacts/screenshots/<lang>/console.txt``;
- a page that does not show what it is for (the flow's own title and fields, the apartment's
  name and state, the blueprint's inputs, ...), so a blank or wrong page cannot pass;
- a care board whose tile for the demo's apartment at "check needed" is not shown, in red.

Languages run one after the other (all Swedish pages, then all English ones); the language
is the user's profile language (websocket ``frontend/set_user_data``) and the browser's
``selectedLanguage``, as a user switching language in their profile would set them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import functools
import importlib.util
import json
import os
from pathlib import Path
import re
import shutil
import sys
import time
from typing import Any

import pytest
import pytest_socket
import yaml

from custom_components.ange_iot.angelib.simulator import DEMO_NOT_UP

from .harness import Hass, Mosquitto, develop, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
LANGUAGES = ("sv", "en")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "screenshots"
TRANSLATIONS = REPO / "custom_components" / "ange_iot" / "translations"
BLUEPRINTS = sorted((REPO / "blueprints" / "automation" / "ange_iot").glob("*.yaml"))
CHROMIUM = os.environ.get("ANGE_CHROMIUM", "/usr/bin/chromium")
GATEWAY_KINDS = ("simulated", "chirpstack_mqtt", "chirpstack_http", "tts_webhook", "tts_mqtt")
TIMEOUT_MS = 20_000
CHECK_NEEDED_TIMEOUT_S = 300  # the demo's 2 min limit + 1 min grace, on a busy machine
CARE_BOARD = "ange-iot-care-board"

# What the frontend shows when a string does not format (formatjs error codes included).
BROKEN_TEXT = re.compile(
    r"Translation error|formatjs Error|Translation \[|MISSING_VALUE|UNCLOSED_TAG|"
    r"UNMATCHED_CLOSING_TAG|INVALID_TAG|MALFORMED_ARGUMENT|EXPECT_ARGUMENT_CLOSING_BRACE|"
    r"EMPTY_ARGUMENT|INVALID_ARGUMENT_TYPE"
)
# A key shown instead of its text: the frontend prints the key when the string is missing.
RAW_KEY = re.compile(
    r"\b(?:component\.ange_iot\.\S+|ange_iot\.(?:config|config_subentries|options|entity|"
    r"device|services|exceptions|issues|selector|common)\.\S+)"
)
# Console messages that are about strings or about us (anything else is only recorded).
OURS = re.compile(r"ange_iot|Ånge|formatjs|Translation|MISSING_VALUE|UNCLOSED_TAG", re.I)

# Every text node of the document, walking into every open shadow root (Playwright's
# inner_text() does not pierce shadow DOM; its CSS locators do).
ALL_TEXT_JS = """() => {
  const out = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        const text = child.textContent.trim();
        if (text) out.push(text);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        if (child.tagName === "STYLE" || child.tagName === "SCRIPT") continue;
        if (child.shadowRoot) walk(child.shadowRoot);
        for (const attr of ["label", "placeholder", "title", "aria-label", "helper"]) {
          const value = child.getAttribute(attr);
          if (value) out.push(value);
        }
        walk(child);
      }
    }
  };
  walk(document);
  return out.join("\\n");
}"""


# Each visible tile card's text (the tile's own shadow root included).
TILE_TEXTS_JS = """() => {
  const tiles = [];
  const text = (node) => {
    let out = "";
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) out += " " + child.textContent.trim();
      else if (child.nodeType === Node.ELEMENT_NODE) {
        if (child.shadowRoot) out += text(child.shadowRoot);
        out += text(child);
      }
    }
    return out;
  };
  const find = (node) => {
    for (const el of node.querySelectorAll("*")) {
      if (el.tagName === "HUI-TILE-CARD" && el.checkVisibility())
        tiles.push(text(el.shadowRoot || el));
      if (el.shadowRoot) find(el.shadowRoot);
    }
  };
  find(document);
  return tiles;
}"""
# The configured colour of every visible tile card whose name is the given apartment.
TILE_COLOURS_JS = """(name) => {
  const found = [];
  const find = (node) => {
    for (const el of node.querySelectorAll("*")) {
      if (el.tagName === "HUI-TILE-CARD" && el.checkVisibility()
          && el._config && el._config.name === name)
        found.push(String(el._config.color));
      if (el.shadowRoot) find(el.shadowRoot);
    }
  };
  find(document);
  return found;
}"""


def note(name: str, seconds: float) -> None:
    print(f"browser timing: {name} = {seconds:.3f} s", file=sys.stderr, flush=True)


def strings(lang: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((TRANSLATIONS / f"{lang}.json").read_text())
    return result


def _flat(tree: dict[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in _flat(value).items()})
        else:
            flat[key] = str(value)
    return flat


@functools.cache
def english_only() -> frozenset[str]:
    """Our English strings (plain, 4+ letters) that no Swedish string of ours reads as."""
    english, swedish = _flat(strings("en")), _flat(strings("sv"))
    same = set(swedish.values())
    return frozenset(
        text
        for key, text in english.items()
        if text != swedish.get(key) and text not in same and len(text) >= 4 and plain(text) == text
    )


def plain(text: str) -> str:
    """The start of a translation as the page shows it: up to the first ICU syntax."""
    return re.split(r"[{}<>'\n]", text, maxsplit=1)[0].strip()


# -- the site -----------------------------------------------------------------------------


@dataclass
class Site:
    """The running instance and what the pages need from it."""

    broker: Mosquitto
    hass: Hass
    building: str  # the building's config entry id
    apartment_device_id: str
    care_status_entity: str
    apartment: str = DEMO_NOT_UP

    @property
    def base(self) -> str:
        return self.hass.api.base


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"({path} does not exist)"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Broker + hass with the demo site, set up as ``scripts/develop`` does.

    The same onboarding, HTTP confirmation, demo quick start (``DEMO_NOT_UP``'s resident
    does not get up, so its care check fails within minutes) and demo building; only
    develop's one restart (which clears HA's "HTTP YAML" repair) is left out, to save the
    time: the repair shows as a badge on Settings in the screenshots.
    """
    pytest_socket.enable_socket()  # module fixtures run before the per-test socket_enabled
    work = tmp_path_factory.mktemp("browser")
    broker = Mosquitto(work, develop.free_port())
    hass = Hass(work / "config", develop.free_port())
    started = time.monotonic()
    failed = False
    try:
        broker.start()
        note("hass start (process to API up, onboarded)", hass.start())
        develop.remove_onboarding_areas(hass.api)
        develop.confirm_http_config(hass.api, hass.config_dir / "configuration.yaml")
        develop.ensure_simulated_gateway(hass.api)
        hass.flow(
            "flow",
            {"handler": "mqtt"},
            {
                "broker": "127.0.0.1",
                "port": broker.port,
                "other_settings": {
                    "set_client_cert": False,
                    "set_ca_cert": "off",
                    "transport": "tcp",
                },
            },
        )
        develop.wait_running(hass.api, hass.proc)
        entries = hass.request("GET", "/api/config/config_entries/entry?domain=ange_iot")
        building = next(
            e["entry_id"]
            for e in entries
            if e["title"] == "Gruppbostad Solbacken" or "building" in str(e.get("unique_id"))
        )
        for entry in entries:
            hass.wait_loaded(entry["entry_id"])
        subentries = hass.ws({"type": "config_entries/subentries/list", "entry_id": building})
        apartment = next(s for s in subentries if s["title"] == DEMO_NOT_UP)
        devices = hass.ws({"type": "config/device_registry/list"})
        device_id = next(
            d["id"]
            for d in devices
            if ["ange_iot", f"apartment_{apartment['subentry_id']}"] in d["identifiers"]
        )
        registry = hass.ws({"type": "config/entity_registry/list"})
        care_status = next(
            e["entity_id"]
            for e in registry
            if e["device_id"] == device_id and e["unique_id"].endswith("care_status")
        )
        wait_until(
            lambda: hass.value(care_status) not in ("<missing>", "unavailable", "unknown"),
            60,
            f"a care status for {care_status}",
            interval=0.2,
        )
        result = Site(broker, hass, building, device_id, care_status)
        note("site setup (broker start to demo ready)", time.monotonic() - started)
        yield result
    except BaseException:
        failed = True
        print(f"--- home-assistant.log ---\n{tail(hass.log_file)}", file=sys.stderr)
        raise
    finally:
        pytest_socket.enable_socket()
        try:
            if not failed and hass.proc is not None and hass.proc.poll() is None:
                hass.stop()
        finally:
            hass.kill()
            broker.stop()
        note("module total (setup to teardown)", time.monotonic() - started)


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """Override the harness's in-process leak check: Playwright keeps its threads for the
    module (hass runs in its own process here; the other e2e modules keep the check)."""


# -- the browser --------------------------------------------------------------------------


class Browser:
    """One Chromium in a thread of its own; one logged-in tab per language, in turn.

    Playwright's sync API marks its event loop as running in the thread that uses it, which
    breaks every other asyncio user there (pytest-asyncio's runners, ``develop.ws_command``).
    So Playwright lives in one worker thread and every page operation runs there (``run``).
    """

    def __init__(self, site: Site) -> None:
        self.site = site
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self.playwright: Any = None
        self.chromium: Any = None
        self.context: Any = None
        self.page: Any = None
        self.lang: str | None = None
        self.console: list[str] = []
        self.cleared: set[str] = set()

    def run[T](self, func: Callable[..., T], *args: Any) -> T:
        """Run ``func(*args)`` in the Playwright thread; its result or exception."""
        return self.executor.submit(func, *args).result()

    def launch(self) -> None:
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.chromium = self.playwright.chromium.launch(executable_path=CHROMIUM)

    def _save_console(self) -> None:
        """The tab's console errors beside its screenshots (those about us also fail a test)."""
        if self.console and self.lang:
            with (ARTIFACTS / self.lang / "console.txt").open("a") as out:
                out.write("".join(f"{line}\n" for line in self.console))

    def close(self) -> None:
        try:
            self._save_console()
            if self.chromium is not None:
                self.chromium.close()
            if self.playwright is not None:
                self.playwright.stop()
        finally:
            self.executor.shutdown(wait=False, cancel_futures=True)

    def use(self, lang: str) -> None:
        """Log in with ``lang`` as the user's language (the profile's and the browser's)."""
        if lang == self.lang:
            return
        started = time.monotonic()
        # What the profile page's language picker stores (main thread: asyncio is free).
        self.site.hass.ws(
            {
                "type": "frontend/set_user_data",
                "key": "language",
                "value": {
                    "language": lang,
                    "number_format": "language",
                    "time_format": "language",
                    "date_format": "language",
                    "time_zone": "local",
                    "first_weekday": "language",
                },
            }
        )
        self.run(self._log_in, lang)
        note(f"log in ({lang})", time.monotonic() - started)

    def _log_in(self, lang: str) -> None:
        if self.context is not None:
            self._save_console()
            self.context.close()
        folder = ARTIFACTS / lang
        if lang not in self.cleared:  # last run's screenshots go; this run's stay
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            self.cleared.add(lang)
        self.context = self.chromium.new_context(
            viewport={"width": 1280, "height": 900},
            locale="sv-SE" if lang == "sv" else "en-GB",
            timezone_id="Europe/Stockholm",
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(  # only on HA's pages (about:blank has no storage)
            "if (location.protocol.startsWith('http')) "
            f"localStorage.setItem('selectedLanguage', JSON.stringify({json.dumps(lang)}))"
        )
        self.page = page = self.context.new_page()
        self.console = []
        page.on(
            "console",
            lambda msg: (
                self.console.append(f"console.{msg.type}: {msg.text}")
                if msg.type in ("error", "assert")
                else None
            ),
        )
        page.on("pageerror", lambda err: self.console.append(f"pageerror: {err}"))
        # Home Assistant's own login page, as a person would use it.
        page.goto(self.site.base + "/")
        page.wait_for_url("**/auth/authorize**")
        page.locator("input[name=username]").fill(develop.USERNAME)
        page.locator("input[name=password]").fill(develop.PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/auth/" not in url)
        page.wait_for_selector("home-assistant", state="attached")
        wait_until(
            lambda: page.evaluate("document.documentElement.lang") == lang,
            30,
            f"the frontend in {lang}",
            interval=0.1,
        )
        self.lang = lang


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    """Debian's chromium, driven by Playwright (its own browser download is not used)."""
    if importlib.util.find_spec("playwright") is None:
        pytest.fail("playwright is not installed: run scripts/bootstrap (requirements_test.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run scripts/bootstrap --with-chromium (as root)")
    result = Browser(site)
    try:
        result.run(result.launch)
        yield result
    finally:
        result.run(result.close)


@dataclass
class Check:
    """One page in one language: what it must show; screenshot and error checks."""

    browser: Browser
    lang: str
    name: str
    console_mark: int = 0
    log_mark: tuple[int, int] = (0, 0)

    @property
    def page(self) -> Any:
        return self.browser.page

    @property
    def site(self) -> Site:
        return self.browser.site

    def shows(self, *texts: str, timeout: float = TIMEOUT_MS / 1000) -> None:
        """Wait until every text is somewhere on the page (shadow DOM included)."""
        wanted = [t for t in texts if t]
        seen = ""

        def probe() -> bool:
            nonlocal seen
            seen = self.page.evaluate(ALL_TEXT_JS)
            return all(t in seen for t in wanted)

        try:
            wait_until(probe, timeout, f"text on {self.lang}/{self.name}", interval=0.2)
        except develop.Failure as err:
            self.screenshot()
            missing = [t for t in wanted if t not in seen]
            raise develop.Failure(f"{err}: missing {missing}") from None

    def screenshot(self) -> Path:
        path = ARTIFACTS / self.lang / f"{self.name}.png"
        self.page.screenshot(path=str(path))
        return path

    def problems(self) -> list[str]:
        """Screenshot, then broken strings, raw keys and errors about strings or us."""
        self.page.wait_for_timeout(300)  # let late renders (icons, translations) land
        self.screenshot()
        text = self.page.evaluate(ALL_TEXT_JS)
        (ARTIFACTS / self.lang / f"{self.name}.txt").write_text(text)
        lines = text.splitlines()
        found = [f"broken string: {line!r}" for line in lines if BROKEN_TEXT.search(line)]
        found += [f"untranslated key: {key}" for key in RAW_KEY.findall(text)]
        if self.lang == "sv":  # our English on a Swedish page (mixed languages)
            english = english_only()
            found += [f"English on a Swedish page: {line!r}" for line in lines if line in english]
        console = self.browser.console[self.console_mark :]
        found += [f"browser {line[:500]}" for line in console if OURS.search(line)]
        return list(dict.fromkeys(found))

    def log_problems(self) -> list[str]:
        """ERROR lines in HA's log about strings or us (main thread): the frontend's
        (``frontend.js``) and the translation loader's (a string dropped for English)."""
        with self.site.hass.log_file.open("rb") as log:
            log.seek(self.log_mark[1])
            lines = log.read().decode(errors="replace").splitlines()
        return [
            f"HA log: {line[:500]}"
            for line in lines
            if " ERROR " in line
            and ("frontend.js" in line or "helpers.translation" in line)
            and OURS.search(line)
        ]


# -- HA's pages ---------------------------------------------------------------------------


def open_integration(check: Check) -> None:
    """Settings → Devices & services → Ånge IoT.

    HA's frontend now and then renders this page opened by URL with "No entries" and never
    fills it in (its config-entries subscription races the page; nothing is logged): a user
    would reload, and so does this, once.
    """
    check.page.goto(check.site.base + "/config/integrations/integration/ange_iot")
    try:
        check.shows("Gruppbostad Solbacken", check.site.apartment, timeout=10)
    except develop.Failure:
        check.page.reload()
        check.shows("Gruppbostad Solbacken", check.site.apartment)


def open_add_entry(check: Check) -> None:
    """The integration page's first button: add an entry (the gateway/building menu)."""
    open_integration(check)
    check.page.locator(".actions ha-button").first.click()
    check.page.wait_for_selector("step-flow-menu", state="attached")


def choose(check: Check, label: str) -> None:
    """Pick a menu option of the open flow dialog by its (translated) label."""
    check.page.locator("step-flow-menu").get_by_text(label, exact=True).click()


def integration_page(check: Check) -> None:
    """Settings → Integrations → Ånge IoT: entries, subentries and add buttons."""
    subentries = strings(check.lang)["config_subentries"]
    open_integration(check)
    check.shows(*(plain(s["initiate_flow"]["user"]) for s in subentries.values()))


def first_screen(check: Check) -> None:
    """The add-entry menu: every gateway kind and the building."""
    step = strings(check.lang)["config"]["step"]["user"]
    open_add_entry(check)
    check.shows(plain(step["title"]), *step["menu_options"].values())


def first_form(kind: str) -> Callable[[Check], None]:
    """The first form of one gateway kind or of a building.

    The demo already has the one simulated gateway an instance may have: its flow ends at
    once with the "already set up" message, which is what a user sees there.
    """

    def visit(check: Check) -> None:
        config = strings(check.lang)["config"]
        open_add_entry(check)
        choose(check, config["step"]["user"]["menu_options"][kind])
        if kind == "simulated":
            check.page.wait_for_selector("step-flow-abort", state="attached")
            check.shows(plain(config["abort"]["already_configured"]))
            return
        check.page.wait_for_selector("step-flow-form", state="attached")
        step = config["step"][kind]
        check.shows(plain(step.get("title", "")), *map(plain, step.get("data", {}).values()))

    return visit


def wrong_topic(check: Check) -> None:
    """ChirpStack MQTT with a topic lacking {devEui}/{event}: the error must render."""
    config = strings(check.lang)["config"]
    open_add_entry(check)
    choose(check, config["step"]["user"]["menu_options"]["chirpstack_mqtt"])
    topic = check.page.locator("step-flow-form").locator("input").nth(1)
    topic.fill("application/+/device/up")
    topic.press("Enter")  # the flow form submits on Enter
    check.shows(plain(config["error"]["invalid_topic_template"]))


def add_apartment(check: Check) -> None:
    """Add apartment (a subentry of the building), from the integration page's button."""
    apartment = strings(check.lang)["config_subentries"]["apartment"]
    open_integration(check)
    add = check.page.locator(".actions ha-button")
    add.filter(has_text=apartment["initiate_flow"]["user"]).click()
    check.page.wait_for_selector("step-flow-form", state="attached")
    step = apartment["step"]["user"]
    check.shows(plain(step["title"]), plain(step["data"]["label"]))


def building_options(option: str | None) -> Callable[[Check], None]:
    """The building's options (its gear): the menu, or one of its forms."""

    def visit(check: Check) -> None:
        options = strings(check.lang)["options"]["step"]
        open_integration(check)
        row = check.page.locator(f'ha-config-entry-row[data-entry-id="{check.site.building}"]')
        row.locator("ha-icon-button[slot=end]").first.click()  # its gear
        check.page.wait_for_selector("step-flow-menu", state="attached")
        menu = options["init"]
        check.shows(plain(menu["title"]), *menu["menu_options"].values())
        if option is not None:
            choose(check, menu["menu_options"][option])
            check.page.wait_for_selector("step-flow-form", state="attached")
            step = options[option]
            check.shows(plain(step.get("title", "")), *map(plain, step.get("data", {}).values()))

    return visit


def apartment_device(check: Check) -> None:
    """An apartment's device page (care status, controls, its logbook card)."""
    check.page.goto(f"{check.site.base}/config/devices/device/{check.site.apartment_device_id}")
    # Entity names follow the instance's language (Swedish here); states the user's.
    states = strings(check.lang)["entity"]["sensor"]["care_status"]["state"]
    state = check.site.hass.value(check.site.care_status_entity)
    check.shows(check.site.apartment, plain(states[state]))


def apartment_logbook(check: Check) -> None:
    """The logbook filtered to the apartment's care status, once it needed a check.

    Opened after the care board: the line of its change to "check needed" must be there,
    with the apartment named.
    """
    wait_for_check_needed(check.site)
    state = strings(check.lang)["entity"]["sensor"]["care_status"]["state"]["check_needed"]
    check.page.goto(f"{check.site.base}/logbook?entity_id={check.site.care_status_entity}")
    check.page.wait_for_selector("ha-logbook", state="attached")
    check.shows(check.site.apartment, state)


def input_names(inputs: dict[str, Any]) -> list[str]:
    """Names of a blueprint's inputs, those inside input sections included."""
    names = []
    for value in inputs.values():
        if isinstance(value, dict) and "input" in value:
            names += input_names(value["input"])
        if isinstance(value, dict) and value.get("name"):
            names.append(str(value["name"]))
    return names


def blueprint_form(path: Path) -> Callable[[Check], None]:
    """Automations → Create automation → one of our blueprints: its form."""

    def visit(check: Check) -> None:
        blueprint = yaml.safe_load(path.read_text().replace("!input", ""))["blueprint"]
        check.page.goto(check.site.base + "/config/automation/dashboard")
        check.page.locator("[slot=fab]").first.click()
        check.page.locator("ha-list-item").filter(has_text=blueprint["name"]).click()
        check.page.wait_for_url("**/config/automation/edit/new**")
        check.page.wait_for_selector("ha-selector", state="attached")
        check.shows(*map(plain, input_names(blueprint.get("input", {}))))

    return visit


def wait_for_check_needed(site: Site) -> None:
    """Until the demo's apartment needs a check (its quick start: a few minutes)."""
    wait_until(
        lambda: site.hass.value(site.care_status_entity) == "check_needed",
        CHECK_NEEDED_TIMEOUT_S,
        f"{site.care_status_entity} to become check_needed (the demo's quick start)",
        interval=1,
    )


def care_board(check: Check) -> None:
    """The staff's care board, with the demo's apartment at "check needed".

    The demo's quick start makes its care check fail a few minutes after setup; the board is
    opened last in each language, and waits for that state (through the REST API) first.
    """
    site = check.site
    wait_for_check_needed(site)
    state = strings(check.lang)["entity"]["sensor"]["care_status"]["state"]["check_needed"]
    check.page.goto(f"{site.base}/{CARE_BOARD}")
    check.page.wait_for_selector("hui-tile-card", state="attached")
    check.shows(site.apartment, state)
    # The apartment's own tile says so, in red (the board shows one tile per apartment: the
    # one whose condition matches its status).
    tiles = check.page.evaluate(TILE_TEXTS_JS)
    alarm = [t for t in tiles if site.apartment in t and state in t]
    assert alarm, f"no tile shows {site.apartment} at {state!r}: {tiles}"
    assert check.page.evaluate(TILE_COLOURS_JS, site.apartment) == ["red"]


# The pages (ORDER below says in which order they are opened).
PAGES: dict[str, Callable[[Check], None]] = {
    "integration_page": integration_page,
    "first_screen": first_screen,
    **{f"form_{kind}": first_form(kind) for kind in (*GATEWAY_KINDS, "building")},
    "form_chirpstack_mqtt_wrong_topic": wrong_topic,
    "add_apartment": add_apartment,
    "building_options": building_options(None),
    "building_options_care": building_options("care"),
    "building_options_water": building_options("water"),
    "apartment_device": apartment_device,
    "apartment_logbook": apartment_logbook,
    **{f"blueprint_{path.stem}": blueprint_form(path) for path in BLUEPRINTS},
    "care_board": care_board,
}


# Every page in Swedish, then in English; the care board and the logbook last (English first,
# as the browser is in English then): the demo's care alert needs a few minutes after setup,
# which the other pages fill instead of a wait.
AFTER_ALERT = ("care_board", "apartment_logbook")
ORDER = [
    *((lang, name) for lang in LANGUAGES for name in PAGES if name not in AFTER_ALERT),
    *((lang, name) for lang in reversed(LANGUAGES) for name in AFTER_ALERT),
]


@pytest.mark.timeout(480)  # the first includes hass's start; a care board may wait 300 s
@pytest.mark.parametrize(("lang", "name"), ORDER, ids=[f"{lang}-{name}" for lang, name in ORDER])
def test_page(browser: Browser, lang: str, name: str) -> None:
    """The page renders in ``lang`` with every string of ours formatted and translated."""
    started = time.monotonic()
    browser.use(lang)
    check = Check(browser, lang, name, len(browser.console), browser.site.hass.log_mark())
    try:
        browser.run(PAGES[name], check)
        problems = browser.run(check.problems)
    except Exception:
        browser.run(check.screenshot)
        raise
    finally:
        # A dialog left open would cover the next page: start each page from a fresh load.
        browser.run(lambda: browser.page.goto("about:blank"))
    problems += check.log_problems()
    note(f"{lang}/{name}", time.monotonic() - started)
    assert not problems, f"{lang}/{name}:\n  " + "\n  ".join(problems)
