"""Two Home Assistant sites on one network server: one broker, one application each.

The README's scale-out path, end to end: one Mosquitto broker (the network server's), two
real ``hass`` instances, each with a ChirpStack MQTT gateway filtered to its own ChirpStack
application. Both applications' uplinks are published at the same time, from two processes
playing ChirpStack. Each site must apply exactly its own devices (every uplink counted by its
gateway, none of the other application's), offer only its own unknown device as
"discovered", and keep up: both batches applied within generous bounds (rates printed as
``e2e timing:`` lines; asserted only against a floor far below them).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
import contextlib
from dataclasses import dataclass
import sys
import time
from typing import Any

import pytest
import pytest_socket

from .harness import Failure, Hass, Mosquitto, Publisher, develop, wait_until

pytestmark = pytest.mark.e2e

TEMPLATE = "application/{applicationId}/device/{devEui}/event/{event}"
ROUNDS = 150  # uplinks per added device and site
APPLY_LIMIT_S = 90.0  # both batches applied: generous for a loaded 2-core machine
MIN_RATE = 20.0  # uplinks/s per site while the other is busy too (measured: 100s/s)


@dataclass(frozen=True)
class Sensor:
    dev_eui: str
    name: str
    model: str
    codec: str
    profile: str


@dataclass
class SiteSpec:
    """One site: its ChirpStack application, its sensors and one sensor it has not added."""

    name: str
    application_id: str
    ers: Sensor
    meter: Sensor
    unknown: Sensor


SITES = (
    SiteSpec(
        "Kommunhuset",
        "0b1e5d8c-1c5a-4d5e-9a51-3c8f6a0e0a01",
        Sensor("a81758fffe0a0001", "Lgh A1 rörelse", "elsys_ers", "elsys", "Elsys ERS"),
        Sensor("8c83fc050e0a0002", "Lgh A1 vatten", "kamstrup_flowiq_2200", "kamstrup_flowiq",
               "Kamstrup flowIQ 2200"),
        Sensor("a81758fffe0a00ff", "ny", "elsys_ers", "elsys", "Elsys ERS"),
    ),
    SiteSpec(
        "Gruppbostaden",
        "0b1e5d8c-1c5a-4d5e-9a51-3c8f6a0e0b02",
        Sensor("a81758fffe0b0001", "Lgh B1 rörelse", "elsys_ers", "elsys", "Elsys ERS"),
        Sensor("8c83fc050e0b0002", "Lgh B1 vatten", "kamstrup_flowiq_2200", "kamstrup_flowiq",
               "Kamstrup flowIQ 2200"),
        Sensor("a81758fffe0b00ff", "ny", "elsys_ers", "elsys", "Elsys ERS"),
    ),
)  # fmt: skip


def note(name: str, value: float, unit: str = "s") -> None:
    print(f"e2e timing: {name} = {value:.3f} {unit}", file=sys.stderr, flush=True)


@dataclass
class Site:
    spec: SiteSpec
    broker: Mosquitto
    hass: Hass
    entry_id: str
    entities: dict[str, str]  # unique_id -> entity_id

    def counter(self, key: str) -> float:
        """A gateway counter (``uplinks``, ``rejected``) from the entry's diagnostics.

        The counter entities are diagnostic and disabled by default (HA's entity cap per
        entry); the diagnostics download shows the same counts, always.
        """
        diagnostics = self.hass.request("GET", f"/api/diagnostics/config_entry/{self.entry_id}")
        value = diagnostics["data"]["gateway"][key]
        if isinstance(value, dict):  # rejected: per reason
            return float(sum(value.values()))
        return float(value)

    def discovered(self) -> set[str]:
        """DevEUIs this site offers under "Discovered" (our integration's discovery flows)."""
        return {
            flow["context"]["unique_id"].removeprefix("device:")
            for flow in self.hass.ws({"type": "config_entries/flow/progress"})
            if flow["handler"] == develop.DOMAIN
            and flow["context"].get("source") == "integration_discovery"
        }


def set_up_site(hass: Hass, spec: SiteSpec, broker: Mosquitto) -> Site:
    """Connect to the launched hass; MQTT, the site's gateway (its application), two sensors."""
    hass.connect()
    hass.flow(
        "flow",
        {"handler": "mqtt"},
        {
            "broker": "127.0.0.1",
            "port": broker.port,
            "other_settings": {"set_client_cert": False, "set_ca_cert": "off", "transport": "tcp"},
        },
    )
    created = hass.flow(
        "flow",
        {"handler": "ange_iot"},
        "chirpstack_mqtt",
        {"name": spec.name, "topic_template": TEMPLATE, "application_id": spec.application_id},
    )
    entry_id = created["result"]["entry_id"]
    hass.wait_loaded(entry_id)
    for sensor in (spec.ers, spec.meter):
        hass.flow(
            "subentries/flow",
            {"handler": [entry_id, "device"]},
            {"dev_eui": sensor.dev_eui, "name": sensor.name, "model": sensor.model},
        )
        wait_until(
            lambda s=sensor: any(u.startswith(s.dev_eui) for u in hass.entity_ids(entry_id)),
            30,
            f"entities of {sensor.name}",
            interval=0.2,
        )
        hass.wait_loaded(entry_id)
    return Site(spec, broker, hass, entry_id, hass.entity_ids(entry_id))


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site]]:
    """One broker, two hass instances (set up side by side), one gateway each."""
    pytest_socket.enable_socket()
    work = tmp_path_factory.mktemp("two-sites-e2e")
    broker = Mosquitto(work, develop.free_port())
    instances = [Hass(work / f"config-{i}", develop.free_port()) for i in range(len(SITES))]
    started = time.monotonic()
    try:
        broker.start()
        for hass in instances:
            hass.launch()  # here: a process dies with the thread that started it
        with ThreadPoolExecutor(len(SITES)) as pool:
            futures = [
                pool.submit(set_up_site, hass, spec, broker)
                for hass, spec in zip(instances, SITES, strict=True)
            ]
            site_a, site_b = (future.result() for future in futures)
        for site in (site_a, site_b):
            topic = f"application/{site.spec.application_id}/device/+/event/+"
            wait_until(lambda t=topic: broker.subscribed(t), 30, f"a subscription to {topic}")
        note("two sites set up (broker start to both subscribed)", time.monotonic() - started)
        yield site_a, site_b
    except BaseException:
        for hass in instances:
            print(f"--- {hass.log_file} ---", file=sys.stderr)
            if hass.log_file.exists():
                print(hass.log_file.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        pytest_socket.enable_socket()
        for hass in instances:
            if hass.proc is not None and hass.proc.poll() is None:
                with contextlib.suppress(Failure):
                    hass.stop()
            hass.kill()
        broker.stop()


def batch(spec: SiteSpec) -> list[dict[str, Any]]:
    """The site's uplinks: its unknown sensor, then ROUNDS from each added sensor, interleaved."""

    def uplink(sensor: Sensor, fcnt: int, **fields: Any) -> dict[str, Any]:
        return {
            "dev_eui": sensor.dev_eui,
            "name": sensor.name,
            "profile": sensor.profile,
            "codec": sensor.codec,
            "fields": fields,
            "fcnt": fcnt,
        }

    uplinks = [uplink(spec.unknown, 1, temperature=20.0, humidity=40, motion_count=0)]
    for i in range(1, ROUNDS + 1):
        uplinks.append(
            uplink(spec.ers, i, temperature=15 + i / 10, humidity=30 + i % 20, motion_count=i % 3)
        )
        uplinks.append(uplink(spec.meter, i, volume_l=100_000 + 7 * i))
    return uplinks


@pytest.mark.timeout(600)
def test_two_sites_one_broker(sites: tuple[Site, Site]) -> None:
    """Both applications at once: each site applies exactly its own, at a usable rate."""
    batches = [batch(site.spec) for site in sites]
    before = [site.counter("uplinks") for site in sites]
    assert all(count >= 0 for count in before), before

    def applied(site: Site, expected: float) -> bool:
        return site.counter("uplinks") >= expected

    done: dict[str, float] = {}
    port = sites[0].broker.port
    with (
        Publisher(port, sites[0].spec.application_id, batches[0], qos=1) as pub_a,
        Publisher(port, sites[1].spec.application_id, batches[1], qos=1) as pub_b,
    ):
        publishers = [pub_a, pub_b]

        def all_applied() -> bool:
            for site, start, uplinks in zip(sites, before, batches, strict=True):
                if site.spec.name not in done and applied(site, start + len(uplinks)):
                    done[site.spec.name] = time.time()
            return len(done) == len(sites)

        wait_until(all_applied, APPLY_LIMIT_S, "both sites to apply their batch", interval=0.1)
        results = [publisher.results() for publisher in publishers]

    for site, start, uplinks, sent in zip(sites, before, batches, results, strict=True):
        first = min(line["sent_at"] for line in sent)
        last = max(line["sent_at"] for line in sent)
        seconds = done[site.spec.name] - first
        note(f"{site.spec.name}: {len(uplinks)} uplinks published in", last - first)
        note(f"{site.spec.name}: applied rate", len(uplinks) / seconds, "uplinks/s")
        assert len(uplinks) / seconds >= MIN_RATE
        # Exactly its own: every one of its uplinks, none of the other application's.
        hass = site.hass
        assert site.counter("uplinks") == start + len(uplinks)
        assert site.counter("rejected") == 0
        ers, meter = site.spec.ers, site.spec.meter
        assert float(hass.value(site.entities[f"{ers.dev_eui}_temperature"])) == pytest.approx(
            15 + ROUNDS / 10
        )
        assert float(hass.value(site.entities[f"{meter.dev_eui}_volume"])) == pytest.approx(
            (100_000 + 7 * ROUNDS) / 1000
        )

    for site, other in (sites, sites[::-1]):
        # Its own unknown sensor is offered; nothing of the other application is.
        wait_until(lambda s=site: s.spec.unknown.dev_eui in s.discovered(), 30, "discovery")
        assert site.discovered() == {site.spec.unknown.dev_eui}
        theirs = {other.spec.ers.dev_eui, other.spec.meter.dev_eui, other.spec.unknown.dev_eui}
        assert not [u for u in site.hass.entity_ids(site.entry_id) if u[:16] in theirs]

    for site in sites:  # the whole log: start, flows, the batch
        assert site.hass.errors_since((0, 0)) == []
