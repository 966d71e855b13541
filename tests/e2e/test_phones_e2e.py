"""The staff path end to end: a real ``hass``, the shipped blueprints, Companion-app phones.

One module-scoped site (``staff``): a real ``hass`` on 127.0.0.1 set up only through its
APIs, as in ``test_gateways_e2e``: a ChirpStack HTTP gateway (uplinks are posted to its
webhook as ChirpStack would post them, so every uplink's time is ours), two motion sensors
and a water meter, a second one with three one-minute motion sensors that fall silent, a
building "Solbacken" with two apartments whose daytime inactivity limit is one minute
(grace 0) and three on the second gateway (no checks: they only say "cannot tell"), the
meter as the building's water meter, and two
automations created from ``care_check_notification.yaml`` and
``meter_alert_notification.yaml`` through HA's automation config API. Three HA users
(created by the admin over the websocket API) each log in on a simulated phone
(``phones.py``): Anna (Android) and Bertil (iPhone) are the staff phones, Cecilia's
"Jour" phone is the escalation phone.

The instance runs in a fixed-offset time zone (``Etc/GMT±N``) chosen so that its wall
clock is near noon whatever the hour of the run: the apartments' active hours
(06:00-20:00) hold for the whole module. Both apartments' alerts come one minute after the
setup's motion uplinks; the tests then run one after the other on that timeline (the
escalation test restarts ``hass`` inside its escalation delay). Each test still checks
only its own apartment or meter, so they can also run alone.

To add a scenario (reminders, a restart mid-reminder, an incident): give it an apartment of
its own in ``APARTMENTS`` (its alert comes with the others'), wait for it with
``care_alert``, read what a phone shows with ``Phone.wait_for`` / ``Phone.showing``, press a
button with ``Phone.press``, restart with ``Staff.restart`` and find who acknowledged in the
logbook with ``acknowledgements``. A sensor goes silent when nothing is posted for it
(silence limit: ``report_interval`` × ``missed_reports`` in ``_add_sensor``; the gateway's own
limit is at least 5 minutes, but care checks blame a gateway as soon as its sensors show it,
as ``SILENT_GATEWAY`` does). Timings are printed as ``e2e timing:`` lines.

The order is the timeline: the two alerts (one minute after the setup), the meter leak,
the silent gateway's incident (two minutes after), then the restart inside the escalation
delay (after the incident: a restart before it would count the silence afresh).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
import json
from pathlib import Path
import sys
import time
from typing import Any
from urllib.parse import quote
import uuid
from zoneinfo import ZoneInfo

from homeassistant.util import slugify
import pytest
import pytest_socket

from custom_components.ange_iot.angelib.codecs import CODECS, elsys, kamstrup_flowiq
from custom_components.ange_iot.angelib.lns import chirpstack

from .harness import Hass, develop, post, wait_until
from .phones import Notification, Phone, StaffUser, devices

pytestmark = pytest.mark.e2e

BUILDING = "Solbacken"
SECRET_HEADER = "X-Ange-Secret"
# The blueprint's escalation delay: the escalation test restarts hass inside it, after the
# incident test (whose incident comes two minutes after the setup's uplinks).
ESCALATION_S = 150
REMINDER_S = 60  # the building's reminder interval (its shortest: one minute)
ALERT_TIMEOUT_S = 150  # an alert is due 60 s after the setup's uplinks
DELIVERY_S = 10.0  # event -> notification on the phone, on a loaded 2-core CI machine
LEAK_FLAG = 0x04  # flowIQ info code bit 2


@dataclass(frozen=True)
class Sensor:
    dev_eui: str
    name: str
    model: str
    codec: str


ERS_1101 = Sensor("a81758fffe0e3101", "E2E Lgh 1101 rörelse", "elsys_ers", "elsys")
ERS_1102 = Sensor("a81758fffe0e3102", "E2E Lgh 1102 rörelse", "elsys_ers", "elsys")
# One apartment per care scenario: each one's alert comes one minute after the setup's
# uplinks, so the scenarios share one timeline. A new scenario adds a line here.
APARTMENTS = (("Lgh 1101", ERS_1101), ("Lgh 1102", ERS_1102))
# A second gateway whose three sensors (one a minute, silent after two missed reports) fall
# silent after the setup's uplinks: one incident for the building, not three alerts.
SILENT_GATEWAY = (
    ("Lgh 1301", Sensor("a81758fffe0e3301", "E2E Lgh 1301 rörelse", "elsys_ers", "elsys")),
    ("Lgh 1302", Sensor("a81758fffe0e3302", "E2E Lgh 1302 rörelse", "elsys_ers", "elsys")),
    ("Lgh 1303", Sensor("a81758fffe0e3303", "E2E Lgh 1303 rörelse", "elsys_ers", "elsys")),
)
INCIDENT_AFTER_S = 2 * 60  # two missed one-minute reports
METER = Sensor("8c83fc050e2e3103", "E2E Lgh 1101 vatten", "kamstrup_flowiq_2200", "kamstrup_flowiq")


def note(name: str, seconds: float) -> None:
    print(f"e2e timing: {name} = {seconds:.3f} s", file=sys.stderr, flush=True)


def noon_zone(now: datetime) -> str:
    """A fixed-offset zone whose wall clock is near 12:00 at ``now`` (UTC)."""
    offset = 12 - now.hour  # -11 .. 12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs are inverted


@dataclass
class Apartment:
    label: str
    sensor: Sensor
    subentry_id: str = ""
    device_id: str = ""
    status: str = ""  # the care status sensor's entity id
    alert_id: str = ""  # its open alert, once it rang

    @property
    def tag_prefix(self) -> str:
        """What the blueprint's tags of this apartment's alerts start with."""
        return f"ange-care-{slugify(BUILDING)}-{slugify(self.label)}_"

    @property
    def tag(self) -> str:
        """The blueprint's notification tag of the open alert (one notification per alert)."""
        return f"ange-care-{slugify(BUILDING)}-{slugify(self.alert_id)}"


@dataclass
class Staff:
    """The running site: hass, its gateway webhook, the building, the phones."""

    hass: Hass
    zone: ZoneInfo
    webhooks: dict[str, tuple[str, str]]  # DevEUI -> its gateway's webhook URL and secret
    building_id: str
    apartments: dict[str, Apartment]
    users: dict[str, StaffUser]
    phones: dict[str, Phone]
    care_alerts: str = ""  # event entity ids
    meter_alerts: str = ""
    care_automation: str = ""  # automation entity ids
    meter_automation: str = ""
    fcnt: dict[str, int] = field(default_factory=dict)
    silent_gateway: dict[str, Apartment] = field(default_factory=dict)
    quiet_since: float = 0.0  # when the silent gateway's sensors last reported

    @property
    def staff_phones(self) -> list[Phone]:
        return [self.phones["Personal 1"], self.phones["Personal 2"]]

    @property
    def escalation_phone(self) -> Phone:
        return self.phones["Jour"]

    def uplink(self, sensor: Sensor, payload: bytes) -> float:
        """Post one ChirpStack v4 ``up`` event to the gateway's webhook; when it was sent."""
        self.fcnt[sensor.dev_eui] = self.fcnt.get(sensor.dev_eui, 0) + 1
        event = chirpstack.build_up(
            dev_eui=sensor.dev_eui,
            fport=CODECS[sensor.codec].default_fport,
            fcnt=self.fcnt[sensor.dev_eui],
            payload=payload,
            time=datetime.now(UTC),
            device_name=sensor.name,
            profile_name="",
            application_id="e2e-phones",
            dedup_id=str(uuid.uuid4()),
            rssi=-80,
            snr=7.5,
        )
        sent = time.time()
        url, secret = self.webhooks[sensor.dev_eui]
        status = post(
            url,
            json.dumps(event).encode(),
            {"Content-Type": "application/json", SECRET_HEADER: secret},
        )
        assert status == 200, status
        return sent

    def motion(self, sensor: Sensor) -> float:
        return self.uplink(
            sensor, elsys.encode({"temperature": 21.5, "humidity": 40, "motion_count": 2})
        )

    def meter(self, volume_l: int, info_code: int) -> float:
        payload = kamstrup_flowiq.encode(
            meter_time=datetime.now(UTC), volume_l=volume_l, info_code=info_code
        )
        return self.uplink(METER, payload)

    def restart(self) -> float:
        """Stop ``hass`` gracefully, start it again, reconnect every phone; seconds taken."""
        stopping = time.time()
        assert self.hass.stop() == 0
        for phone in self.phones.values():
            phone.disconnect()  # HA closed the channels: the apps see the server go
        note("hass restart: stop", time.time() - stopping)
        self.hass.start()
        self.hass.wait_loaded(self.building_id)
        assert self.hass.proc is not None
        develop.wait_running(self.hass.api, self.hass.proc)
        for phone in self.phones.values():
            phone.connect(self.hass)  # the apps reconnect when the server is back
        took = time.time() - stopping
        note("hass restart: stop to phones connected again", took)
        return took

    def attributes(self, entity_id: str) -> dict[str, Any]:
        state = self.hass.state(entity_id)
        assert state is not None, entity_id
        return dict(state["attributes"])

    def local_hm(self, iso: str) -> str:
        return datetime.fromisoformat(iso).astimezone(self.zone).strftime("%H:%M")


# -- setup --------------------------------------------------------------------------------


def tail(path: Path, lines: int = 80) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"({path} does not exist)"


def _duration(seconds: int) -> dict[str, int]:
    return {"hours": seconds // 3600, "minutes": seconds % 3600 // 60, "seconds": seconds % 60}


def _add_sensor(
    hass: Hass, gateway_id: str, sensor: Sensor, interval_min: int = 60, missed: int = 3
) -> None:
    hass.flow(
        "subentries/flow",
        {"handler": [gateway_id, "device"]},
        {
            "dev_eui": sensor.dev_eui,
            "name": sensor.name,
            "model": sensor.model,
            "report_interval": interval_min,
            "missed_reports": missed,
        },
    )


def _add_gateway(hass: Hass, name: str) -> tuple[str, str, str]:
    """A ChirpStack HTTP gateway: its entry id, webhook URL (up events) and secret."""
    created = hass.flow("flow", {"handler": "ange_iot"}, "chirpstack_http", {"name": name})
    gateway_id = created["result"]["entry_id"]
    placeholders = created["description_placeholders"]
    hass.wait_loaded(gateway_id)
    path = "/api/webhook/" + placeholders["url"].rsplit("/api/webhook/", 1)[1]
    return gateway_id, hass.api.base + path + placeholders["event"], placeholders["secret"]


def _add_subentry(
    hass: Hass, entry_id: str, kind: str, data: dict[str, Any], entity_key: str | None
) -> str:
    """Add a subentry to the building; wait until it is applied; its subentry id.

    Applied: the entry is loaded again and, with ``entity_key``, the subentry's entity
    (``<entry>_<subentry>_<key>``) exists.
    """
    before = {s["subentry_id"] for s in _subentries(hass, entry_id)}
    hass.flow("subentries/flow", {"handler": [entry_id, kind]}, data)
    subentry_id = next(
        s["subentry_id"] for s in _subentries(hass, entry_id) if s["subentry_id"] not in before
    )
    if entity_key is not None:
        unique_id = f"{entry_id}_{subentry_id}_{entity_key}"
        wait_until(
            lambda: unique_id in hass.entity_ids(entry_id),
            30,
            f"the {entity_key} of the new {kind}",
            interval=0.2,
        )
    hass.wait_loaded(entry_id)
    return str(subentry_id)


def _subentries(hass: Hass, entry_id: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = hass.ws(
        {"type": "config_entries/subentries/list", "entry_id": entry_id}
    )
    return result


def _create_automation(hass: Hass, key: str, alias: str, path: str, inputs: dict[str, Any]) -> str:
    """An automation from a blueprint, as the automation editor saves it; its entity id."""
    hass.request(
        "POST",
        f"/api/config/automation/config/{key}",
        {
            "alias": alias,
            "description": "",
            "use_blueprint": {"path": path, "input": inputs},
        },
    )

    def entity() -> str | None:
        for state in hass.request("GET", "/api/states"):
            if (
                state["entity_id"].startswith("automation.")
                and state["attributes"].get("id") == key
            ):
                return str(state["entity_id"]) if state["state"] == "on" else None
        return None

    return wait_until(entity, 30, f"automation {alias} on", interval=0.2)


@pytest.fixture(scope="module")
def staff(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staff]:
    """hass + users + phones + gateway + building + the two blueprint automations."""
    pytest_socket.enable_socket()
    work = tmp_path_factory.mktemp("phones-e2e")
    config_dir = work / "config"
    port = develop.free_port()
    zone_name = noon_zone(datetime.now(UTC))
    develop.prepare_config(config_dir, port)
    config_file = config_dir / "configuration.yaml"
    config_file.write_text(
        config_file.read_text().replace("time_zone: Europe/Stockholm", f"time_zone: {zone_name}")
    )
    hass = Hass(config_dir, port)
    phones: list[Phone] = []
    started = time.monotonic()
    failed = False
    try:
        note("hass start (process to API up, onboarded)", hass.start())

        # People and phones first: the app registers while HA finishes starting.
        users = {
            "Anna": StaffUser.create(hass, "Anna", "android"),
            "Bertil": StaffUser.create(hass, "Bertil", "ios"),
            "Cecilia": StaffUser.create(hass, "Cecilia", "android"),
        }
        by_name = {
            "Personal 1": Phone("Personal 1", users["Anna"], "android"),
            "Personal 2": Phone("Personal 2", users["Bertil"], "ios"),
            "Jour": Phone("Jour", users["Cecilia"], "android"),
        }
        phones.extend(by_name.values())
        for phone in phones:
            phone.register(hass)
            phone.connect(hass)
        note("users and phones (3 logins, registrations, channels)", time.monotonic() - started)

        gateway_id, webhook_url, secret = _add_gateway(hass, "ChirpStack Ånge")
        for sensor in (*(sensor for _, sensor in APARTMENTS), METER):
            _add_sensor(hass, gateway_id, sensor)
        webhooks = {
            sensor.dev_eui: (webhook_url, secret)
            for sensor in (*(sensor for _, sensor in APARTMENTS), METER)
        }
        quiet_id, quiet_url, quiet_secret = _add_gateway(hass, "ChirpStack Ånge 2")
        for _, sensor in SILENT_GATEWAY:
            _add_sensor(hass, quiet_id, sensor, interval_min=1, missed=2)
            webhooks[sensor.dev_eui] = (quiet_url, quiet_secret)

        building = hass.flow(
            "flow",
            {"handler": "ange_iot"},
            "building",
            {
                "name": BUILDING,
                "morning_start": "06:00:00",
                "morning_deadline": "09:00:00",
                "active_start": "06:00:00",
                "active_end": "20:00:00",
                "inactivity_limit": _duration(60),
                "grace": _duration(0),
                # An unacknowledged alert reminds the staff every minute (the escalation
                # test checks them across a restart); the integration times them.
                "reminder_interval": _duration(REMINDER_S),
                "night_door": False,
                "night_start": "23:00:00",
                "night_end": "05:00:00",
            },
        )
        building_id = building["result"]["entry_id"]
        hass.wait_loaded(building_id)
        apartments = {label: Apartment(label, sensor) for label, sensor in APARTMENTS}
        silent = {label: Apartment(label, sensor) for label, sensor in SILENT_GATEWAY}
        # One at a time, each until its entity is there, as the UI shows it (subentry changes
        # are applied in place, so each wait returns at once; quick adds are tested in
        # tests/test_live_changes.py).
        for apartment in (*apartments.values(), *silent.values()):
            checked = apartment.label in apartments  # the others only say "cannot tell"
            subentry = _add_subentry(
                hass,
                building_id,
                "apartment",
                {
                    "label": apartment.label,
                    "sensors": [apartment.sensor.dev_eui],
                    "enabled": True,
                    "morning_check": False,  # only the inactivity check: due one minute on
                    "inactivity_check": checked,
                    "night_door": False,
                },
                "care_status",
            )
            apartment.subentry_id = subentry
        _add_subentry(
            hass,
            building_id,
            "water_meter",
            {"dev_eui": METER.dev_eui, "counted": True, "continuous_by_design": False},
            None,
        )

        def meter_alerts_ready() -> dict[str, str] | None:
            found: dict[str, str] = hass.entity_ids(building_id)
            return found if f"{building_id}_meter_alerts" in found else None

        ids = wait_until(meter_alerts_ready, 60, "the building's meter alerts", interval=0.2)
        hass.wait_loaded(building_id)
        registry = hass.ws({"type": "config/device_registry/list"})
        for apartment in (*apartments.values(), *silent.values()):
            apartment.status = ids[f"{building_id}_{apartment.subentry_id}_care_status"]
            apartment.device_id = next(
                d["id"]
                for d in registry
                if ["ange_iot", f"apartment_{apartment.subentry_id}"] in d["identifiers"]
            )
        site = Staff(
            hass=hass,
            zone=ZoneInfo(zone_name),
            webhooks=webhooks,
            building_id=building_id,
            apartments=apartments,
            users=users,
            phones=by_name,
            care_alerts=ids[f"{building_id}_care_alerts"],
            meter_alerts=ids[f"{building_id}_meter_alerts"],
            silent_gateway=silent,
        )
        site.care_automation = _create_automation(
            hass,
            "e2e_care_alerts",
            "Tillsynslarm Solbacken",
            "ange_iot/care_check_notification.yaml",
            {
                "care_alerts": site.care_alerts,
                "staff_phones": devices(*site.staff_phones),
                "escalation_phones": devices(site.escalation_phone),
                "escalation_delay": _duration(ESCALATION_S),
            },
        )
        site.meter_automation = _create_automation(
            hass,
            "e2e_meter_alerts",
            "Mätarlarm Solbacken",
            "ange_iot/meter_alert_notification.yaml",
            {"meter_alerts": site.meter_alerts, "phones": devices(*site.staff_phones)},
        )
        # The residents are seen now: each apartment's alert comes one minute later.
        for apartment in apartments.values():
            site.motion(apartment.sensor)
        site.meter(volume_l=100_000, info_code=0)
        # The second gateway's last reports: it falls silent from now on.
        site.quiet_since = max(site.motion(apartment.sensor) for apartment in silent.values())
        for apartment in (*apartments.values(), *silent.values()):
            hass.wait_states({apartment.status: lambda s: s == "ok"}, timeout=20)
        note("site setup (hass start to first uplinks)", time.monotonic() - started)
        yield site
    except BaseException:
        failed = True
        print(f"--- home-assistant.log ---\n{tail(hass.log_file)}", file=sys.stderr)
        raise
    finally:
        pytest_socket.enable_socket()
        for phone in phones:
            phone.close()
        stopping = time.monotonic()
        try:
            if not failed and hass.proc is not None and hass.proc.poll() is None:
                hass.stop()
                note("hass stop", time.monotonic() - stopping)
        finally:
            hass.kill()
        note("phones module total (setup to teardown)", time.monotonic() - started)


@pytest.fixture(autouse=True)
def _no_integration_errors(staff: Staff) -> Iterator[None]:
    """No test may make the integration log an ERROR, nor a phone see a channel or confirm error."""
    mark = staff.hass.log_mark()
    yield
    assert staff.hass.errors_since(mark) == []
    assert {p.name: p.errors for p in staff.phones.values()} == {
        p.name: [] for p in staff.phones.values()
    }


# -- helpers ------------------------------------------------------------------------------

TIME_SENSITIVE = {"priority": "high", "ttl": 0, "push": {"interruption-level": "time-sensitive"}}
CRITICAL = {
    "priority": "high",
    "ttl": 0,
    "channel": "alarm_stream",
    "push": {"sound": {"name": "default", "critical": 1, "volume": 1.0}},
}


def care_alert(
    staff: Staff, apartment: Apartment, title: str
) -> tuple[dict[Phone, Notification], dict[str, Any]]:
    """Wait for the apartment's ``check_needed`` alert on every staff phone.

    Returns what each phone got, and the care status then (with the open alert's id).
    """
    got = {
        phone: phone.wait_for(
            lambda n: (n.tag or "").startswith(apartment.tag_prefix) and n.title == title,
            ALERT_TIMEOUT_S,
            f"{title!r}",
        )
        for phone in staff.staff_phones
    }
    status = staff.hass.state(apartment.status)
    assert status is not None
    apartment.alert_id = status["attributes"]["alert_id"]
    assert {n.tag for n in got.values()} == {apartment.tag}
    return got, status


def expected_alert(
    apartment: Apartment,
    *,
    alert_id: str,
    title: str,
    message: str,
    urgency: dict[str, Any],
) -> dict[str, Any]:
    """A care alert as the blueprint sends it (Swedish), with both buttons and its tag."""
    actions = [
        {"action": f"ANGE_CARE_GOING|{apartment.device_id}|{alert_id}", "title": "Jag går dit"},
        {"action": f"ANGE_CARE_ACK|{apartment.device_id}|{alert_id}", "title": "Kvittera"},
    ]
    return {
        "title": title,
        "message": message,
        "data": {"tag": apartment.tag, "group": "ange-care", "actions": actions, **urgency},
    }


def care_events(staff: Staff, since: float, event_type: str) -> list[dict[str, Any]]:
    """The building's care events of one type since ``since`` (from History, each once)."""
    start = datetime.fromtimestamp(since - 5, UTC).isoformat()
    path = (
        f"/api/history/period/{quote(start)}?filter_entity_id={staff.care_alerts}"
        "&significant_changes_only=0"
    )

    def probe() -> list[dict[str, Any]] | None:
        # History reads the recorder's database, which commits every few seconds.
        found: dict[str, dict[str, Any]] = {}
        for states in staff.hass.request("GET", path):
            for state in states:
                attributes = state["attributes"]
                if attributes.get("event_type") == event_type:
                    found.setdefault(attributes["id"], attributes)
        return list(found.values()) or None

    return wait_until(probe, 15, f"{event_type} in the building's history", interval=0.5)


def shown(notification: Notification) -> dict[str, Any]:
    return {"title": notification.title, "message": notification.message, "data": notification.data}


def logbook(staff: Staff, since: float) -> list[dict[str, Any]]:
    """Logbook entries since ``since`` (the logbook's websocket API, as the UI reads it)."""
    start = datetime.fromtimestamp(since - 5, UTC).isoformat()
    entries: list[dict[str, Any]] = staff.hass.ws(
        {"type": "logbook/get_events", "start_time": start}
    )
    return entries


def acknowledgements(
    staff: Staff, apartment: Apartment, since: float
) -> list[tuple[str, str | None]]:
    """The apartment's acknowledgement lines since ``since``: (message, user id), oldest first.

    (The apartment's logbook also shows its alerts, escalations and their end.)
    """

    def probe() -> list[tuple[str, str | None]] | None:
        # The logbook reads the recorder's database, which commits every few seconds.
        found = [
            (e["message"], e.get("context_user_id"))
            for e in logbook(staff, since)
            if e.get("domain") == "ange_iot"
            and e.get("name") == apartment.label
            and "kvitterad av" in e["message"]
        ]
        return found or None

    return wait_until(probe, 15, f"care log entries of {apartment.label}", interval=0.5)


# -- care: acknowledge from one phone ----------------------------------------------------


@pytest.mark.timeout(240)
def test_acknowledge_from_one_phone(staff: Staff) -> None:
    """Both staff phones ring; Bertil acknowledges from his; Anna's phone learns who.

    The acknowledgement is recorded for the user whose phone pressed (not the admin, not
    the automation), every phone's alert is replaced (staff) or cleared (escalation), and
    the logbook names Bertil with his user id.
    """
    apartment = staff.apartments["Lgh 1101"]
    title = f"Tillsyn behövs: {apartment.label}"
    got, status = care_alert(staff, apartment, title)
    assert status["state"] == "check_needed"
    alert_id = status["attributes"]["alert_id"]
    assert alert_id.startswith(f"{apartment.label}|inactive|")
    since = staff.local_hm(status["attributes"]["since"])
    expected = expected_alert(
        apartment,
        alert_id=alert_id,
        title=title,
        message=f"Ingen aktivitet på länge. Sedan {since}.",
        urgency=TIME_SENSITIVE,
    )
    anna, bertil = staff.staff_phones
    for phone, notification in got.items():
        assert shown(notification) == expected, phone.name
        assert phone.notifications(apartment.tag) == [notification]  # once, not twice
    assert staff.escalation_phone.notifications(apartment.tag) == []
    rang = max(n.received_at for n in got.values())
    note(
        "care alert: both staff phones rang (spread)",
        rang - min(n.received_at for n in got.values()),
    )

    pressed = time.time()
    bertil.press(staff.hass, got[bertil], "Kvittera")
    staff.hass.wait_states({apartment.status: lambda s: s == "acknowledged"}, timeout=DELIVERY_S)
    attributes = staff.attributes(apartment.status)
    assert attributes["acknowledged_by"] == "Bertil"
    assert attributes["open_alerts"] == [
        {
            "id": alert_id,
            "reason": "inactive",
            "since": status["attributes"]["since"],
            "acknowledged_by": "Bertil",
        }
    ]

    taken = {
        "title": f"Kvitterat: {apartment.label}",
        "message": f"Bertil tar {apartment.label}",
        "data": {"tag": apartment.tag, "group": "ange-care"},
    }
    for phone in staff.staff_phones:
        last = phone.wait_for(
            lambda n: n.tag == apartment.tag and n.title == taken["title"],
            DELIVERY_S,
            "who took it",
            since=pressed,
        )
        after = phone.notifications(apartment.tag, since=pressed)
        assert [shown(n) for n in after] == [
            {"title": None, "message": "clear_notification", "data": {"tag": apartment.tag}},
            taken,
        ], phone.name
        # The alert is replaced by the same tag: the phone shows who took it, no buttons.
        assert phone.showing(apartment.tag) is last
    note("press to 'Kvitterat' on both staff phones", time.time() - pressed)
    jour = staff.escalation_phone.wait_for(
        lambda n: n.tag == apartment.tag, DELIVERY_S, "the clear", since=pressed
    )
    assert jour.cleared
    assert staff.escalation_phone.showing(apartment.tag) is None

    found = acknowledgements(staff, apartment, pressed)
    assert found == [("tillsyn kvitterad av Bertil", staff.users["Bertil"].user_id)]

    # Anna pressing her (older) notification's button afterwards changes nothing.
    before = staff.attributes(staff.care_automation)["last_triggered"]
    anna.press(staff.hass, got[anna], "Jag går dit")
    wait_until(
        lambda: (
            (a := staff.attributes(staff.care_automation))["last_triggered"] != before
            and a["current"] == 0
        ),
        DELIVERY_S,
        "the care automation to handle Anna's press",
    )
    assert staff.attributes(apartment.status)["acknowledged_by"] == "Bertil"


# -- water: a leak alert, "Sett", and its end ---------------------------------------------


@pytest.mark.timeout(120)
def test_meter_leak_seen_and_cleared(staff: Staff) -> None:
    """The meter's leak flag rings both staff phones; "Sett" acknowledges; the end clears.

    Reminders of an alert nobody marked as seen are timed by the integration (its
    ``reminder`` events, stored across restarts), so no run of
    ``meter_alert_notification.yaml`` waits. "Sett" acknowledges it in the integration (which
    stops its reminders). When the meter reports the flag cleared, every phone drops the
    alert and gets "Åtgärdat".
    """
    hass = staff.hass
    sent = staff.meter(volume_l=100_050, info_code=LEAK_FLAG)
    title = f"Läcka: {BUILDING}"
    got = {
        phone: phone.wait_for(lambda n: n.title == title, DELIVERY_S, title, since=sent)
        for phone in staff.staff_phones
    }
    note(
        "meter uplink to leak alert on both staff phones",
        max(n.received_at for n in got.values()) - sent,
    )
    event = staff.attributes(staff.meter_alerts)
    assert event["event_type"] == "alert_started"
    assert event["alert"] == "leak"
    alert_id = event["alert_id"]
    tag = "ange-meter-" + hashlib.md5(alert_id.encode()).hexdigest()
    since = datetime.fromisoformat(event["since"]).astimezone(staff.zone)
    expected = {
        "title": title,
        "message": f"Mätare: {event['meter']}. Sedan {since:%Y-%m-%d %H:%M}.",
        "data": {
            "tag": tag,
            "group": "ange-meter",
            "actions": [{"action": f"ANGE_METER_SEEN|{alert_id}", "title": "Sett"}],
        },
    }
    for phone, notification in got.items():
        assert shown(notification) == expected, phone.name
    assert staff.escalation_phone.notifications(tag) == []  # not one of its phones
    # Nothing waits in the automation: the integration keeps the reminders' time.
    wait_until(
        lambda: staff.attributes(staff.meter_automation)["current"] == 0,
        DELIVERY_S,
        "the meter automation's run to end (no in-automation repeats)",
    )

    anna, _bertil = staff.staff_phones
    pressed = time.time()
    anna.press(hass, got[anna], "Sett")
    # Recorded for Anna by the integration; every staff phone now shows who took it.
    for phone in staff.staff_phones:
        taken = phone.wait_for(
            lambda n: n.title == "Kvitterat: Läcka", DELIVERY_S, "who took it", since=pressed
        )
        assert taken.message == f"Anna tar det. Mätare: {event['meter']}.", phone.name
        assert phone.showing(tag) is taken

    cleared_at = staff.meter(volume_l=100_060, info_code=0)
    done = {
        "title": f"Åtgärdat: {BUILDING}",
        "message": f"Larmet är över: Läcka. Mätare: {event['meter']}.",
        "data": {"tag": tag, "group": "ange-meter"},
    }
    for phone in staff.staff_phones:
        last = phone.wait_for(
            lambda n: n.title == done["title"], DELIVERY_S, "Åtgärdat", since=cleared_at
        )
        assert [shown(n) for n in phone.notifications(tag, since=cleared_at)] == [
            {"title": None, "message": "clear_notification", "data": {"tag": tag}},
            done,
        ], phone.name
        assert phone.showing(tag) is last
    assert staff.attributes(staff.meter_alerts)["event_type"] == "alert_cleared"


# -- care: nobody presses; escalation across a restart ------------------------------------


@pytest.mark.timeout(240)
def test_silent_gateway_one_incident(staff: Staff) -> None:
    """A gateway goes silent: one "cannot tell" notification for the building, not three.

    Its three apartments' sensors stop with the setup's uplinks. When the first one's own
    limit (two missed one-minute reports) runs out, the whole gateway has been quiet: every
    apartment on it cannot tell at once, and the staff phones get one incident naming them
    (the apartments' own events carry its id and ring nothing). Reports again: the incident
    ends, and every phone drops it.
    """
    hass = staff.hass
    silent = list(staff.silent_gateway.values())
    title = f"Kan inte avgöra: {len(silent)} lägenheter"
    got = {
        phone: phone.wait_for(
            lambda n: n.title == title,
            max(1.0, staff.quiet_since + INCIDENT_AFTER_S + DELIVERY_S - time.time()),
            title,
            since=staff.quiet_since,
        )
        for phone in staff.staff_phones
    }
    note(
        "silent gateway: incident on the staff phones, after the first sensor's limit",
        max(n.received_at for n in got.values()) - (staff.quiet_since + INCIDENT_AFTER_S),
    )
    # The building's care events since the gateway fell silent (History, as the UI reads it;
    # the other apartments' reminders come meanwhile).
    (event,) = care_events(staff, staff.quiet_since, "incident")
    incident_id = event["incident_id"]
    assert event["cause"] == "gateway_down"
    assert event["apartments"] == [a.label for a in silent]
    assert event["gateways"] == ["ChirpStack Ånge 2"]
    for apartment in silent:
        state = staff.attributes(apartment.status)
        assert hass.value(apartment.status) == "sensor_offline", apartment.label
        assert state["reason"] == "gateway_down", apartment.label
    since = staff.local_hm(event["since"])
    tag = f"ange-care-{slugify(BUILDING)}-{slugify(incident_id)}"
    expected = {
        "title": title,
        "message": (
            "Gatewayen svarar inte: Lgh 1301, Lgh 1302, Lgh 1303. "
            f"Tillsynen kan inte göras. Sedan {since}."
        ),
        "data": {"tag": tag, "group": "ange-care"},
    }
    time.sleep(2)  # anything else on its way (it must not come) arrives meanwhile
    for phone, notification in got.items():
        assert shown(notification) == expected, phone.name
        about = [
            n
            for n in phone.notifications(since=staff.quiet_since)
            if n.tag == tag or any((n.tag or "").startswith(a.tag_prefix) for a in silent)
        ]
        assert about == [notification], phone.name  # one, not one per apartment
    assert staff.escalation_phone.notifications(tag) == []

    # The sensors report again: the incident ends, the phones drop it.
    back = time.time()
    for apartment in silent:
        staff.motion(apartment.sensor)
    for phone in staff.staff_phones:
        phone.wait_for(lambda n: n.tag == tag and n.cleared, DELIVERY_S, "cleared", since=back)
        assert phone.showing(tag) is None
    for apartment in silent:
        hass.wait_states({apartment.status: lambda s: s == "ok"}, timeout=DELIVERY_S)
    (ended,) = care_events(staff, back, "incident_resolved")
    assert ended["incident_id"] == incident_id


@pytest.mark.timeout(300)
def test_escalation_survives_a_restart(staff: Staff) -> None:
    """Nobody acknowledges; ``hass`` restarts inside the delay; the Jour phone still rings.

    The escalation and the reminders are timed and stored by the integration, so a
    graceful stop and start of Home Assistant in between neither loses nor repeats them:
    the staff phones get a reminder a minute (each once, on time), the escalation phone one
    critical "Ej kvitterat" at the due time, and Cecilia can acknowledge from it.
    """
    hass = staff.hass
    apartment = staff.apartments["Lgh 1102"]
    title = f"Tillsyn behövs: {apartment.label}"
    got, status = care_alert(staff, apartment, title)
    assert status["state"] == "check_needed"
    alert_id = status["attributes"]["alert_id"]
    fired = datetime.fromisoformat(status["attributes"]["since"]).timestamp()
    due = fired + ESCALATION_S
    assert staff.escalation_phone.notifications(apartment.tag) == []

    stopping = time.time()
    took = staff.restart()
    back = time.time()
    note("hass restart: margin before the escalation was due", due - back)
    assert back < due, (
        f"the restart took {took:.0f} s and ended after the escalation was due: raise ESCALATION_S"
    )
    assert hass.value(apartment.status) == "check_needed"

    jour = staff.escalation_phone
    escalated = jour.wait_for(
        lambda n: n.tag == apartment.tag,
        due - time.time() + 2 * DELIVERY_S,
        "the escalation",
    )
    note("escalation on the Jour phone, after its due time", escalated.received_at - due)
    assert escalated.received_at >= due - 1  # armed just after the alert fired
    assert escalated.received_at <= due + DELIVERY_S
    since = staff.local_hm(status["attributes"]["since"])
    assert shown(escalated) == expected_alert(
        apartment,
        alert_id=alert_id,
        title=f"Ej kvitterat: {apartment.label}",
        message=(
            f"Ingen har kvitterat på {round(ESCALATION_S / 60)} min. "
            f"Ingen aktivitet på länge. Sedan {since}."
        ),
        urgency=CRITICAL,
    )
    # The staff phones: the alert once, then one reminder per minute on time, each once
    # (the restart in between neither lost nor repeated one), replacing it (same tag).
    reminders_due = int((time.time() - fired) // REMINDER_S)
    assert reminders_due >= 1
    reminder_title = f"Påminnelse: {apartment.label}"
    for phone, alert in got.items():
        phone.wait_for(  # the newest one due may still be on its way
            lambda n: n.title == reminder_title and f"({reminders_due}:a " in n.message,
            max(0.5, max(back, fired + reminders_due * REMINDER_S) + DELIVERY_S - time.time()),
            f"reminder {reminders_due}",
        )
        received = phone.notifications(apartment.tag)
        assert received[0] == alert, phone.name
        reminders = received[1:]
        assert all(n.title == reminder_title for n in reminders), (phone.name, received)
        assert [n.message.split("(", 1)[1].split(":", 1)[0] for n in reminders] == [
            str(k) for k in range(1, len(reminders) + 1)
        ], (phone.name, [n.message for n in reminders])
        for k, reminder in enumerate(reminders, start=1):
            due_k = fired + k * REMINDER_S
            note(f"reminder {k} on {phone.name}, after its due time", reminder.received_at - due_k)
            # Due while Home Assistant was restarting: once, late, right after it is back.
            latest = (back if stopping <= due_k <= back else due_k) + DELIVERY_S
            assert due_k - 1 <= reminder.received_at <= latest, (phone.name, k)
    assert hass.value(apartment.status) == "check_needed"

    pressed = time.time()
    jour.press(hass, escalated, "Kvittera")
    hass.wait_states({apartment.status: lambda s: s == "acknowledged"}, timeout=DELIVERY_S)
    assert staff.attributes(apartment.status)["acknowledged_by"] == "Cecilia"
    assert jour.wait_for(
        lambda n: n.tag == apartment.tag, DELIVERY_S, "the clear", since=pressed
    ).cleared
    for phone in staff.staff_phones:
        taken = phone.wait_for(
            lambda n: n.tag == apartment.tag and n.title == f"Kvitterat: {apartment.label}",
            DELIVERY_S,
            "who took it",
            since=pressed,
        )
        assert taken.message == f"Cecilia tar {apartment.label}"
    assert acknowledgements(staff, apartment, pressed) == [
        ("tillsyn kvitterad av Cecilia", staff.users["Cecilia"].user_id)
    ]
