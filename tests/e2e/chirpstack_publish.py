"""Publish ChirpStack v4 JSON ``up`` events to an MQTT broker, as ChirpStack would.

A separate process of the end-to-end tests (run with the venv's python): it plays the
network server. The request is one JSON object on stdin::

    {"port": 1883, "qos": 1, "application_id": "<uuid>",
     "uplinks": [{"dev_eui": "a81758fffe000001", "name": "...", "profile": "Elsys ERS",
                  "codec": "elsys", "fields": {"temperature": 21.5}, "fcnt": 1}]}

An uplink with ``"codec": null`` and an ``"object"`` plays a device the network server
decodes (a generic device): its ``hex`` payload (default ``01``) is sent as is, with the
object. Other payloads are encoded with the integration's own codecs (``angelib.codecs``).
Each is wrapped with ``angelib.lns.chirpstack.build_up``; each event goes to
``application/<application_id>/device/<devEui>/event/up``. For every uplink one JSON line is
printed on stdout: ``{"dev_eui": ..., "topic": ..., "sent_at": ..., "acked_at": ...}`` (unix
times): just before the publish, and once the broker acknowledged it (QoS 1) or the client
wrote it (QoS 0). The broker forwards before it acknowledges, so a subscriber may well
have the message before ``acked_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
import sys
import time
from typing import Any
import uuid

from paho.mqtt import client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "custom_components" / "ange_iot"))

from angelib.codecs import CODECS, elsys, kamstrup_flowiq, milesight
from angelib.lns import chirpstack

TIMEOUT_S = 10


def encode(codec: str, fields: dict[str, Any], now: datetime, model: str | None) -> bytes:
    """The frame a device of ``codec`` sends for ``fields``."""
    if codec == "elsys":
        return elsys.encode(fields)
    if codec == "milesight":
        return milesight.encode(fields, model or "EM500-UDL")
    if codec == "kamstrup_flowiq":
        return kamstrup_flowiq.encode(meter_time=now, volume_l=int(fields["volume_l"]))
    raise ValueError(f"this publisher cannot encode codec {codec!r}")


def main() -> int:
    request = json.load(sys.stdin)
    qos = int(request.get("qos", 1))
    application_id = request["application_id"]
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"ange-e2e-chirpstack-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv311,
    )
    client.connect("127.0.0.1", int(request["port"]), keepalive=30)
    client.loop_start()
    try:
        for uplink in request["uplinks"]:
            now = datetime.now(UTC)
            codec = uplink["codec"]
            if codec is None:  # a generic device: the network server's codec decoded it
                payload = bytes.fromhex(uplink.get("hex", "01"))
                fport = int(uplink.get("fport", 1))
            else:
                payload = encode(codec, uplink["fields"], now, uplink.get("model"))
                fport = CODECS[codec].default_fport
            event = chirpstack.build_up(
                dev_eui=uplink["dev_eui"],
                fport=fport,
                fcnt=int(uplink["fcnt"]),
                payload=payload,
                time=now,
                device_name=uplink.get("name", uplink["dev_eui"]),
                profile_name=uplink.get("profile", ""),
                application_id=application_id,
                dedup_id=str(uuid.uuid4()),
                rssi=int(uplink.get("rssi", -87)),
                snr=float(uplink.get("snr", 7.25)),
            )
            if "object" in uplink:
                event["object"] = uplink["object"]
            topic = f"application/{application_id}/device/{uplink['dev_eui']}/event/up"
            body = json.dumps(event).encode()
            sent_at = time.time()
            info = client.publish(topic, body, qos=qos)
            info.wait_for_publish(timeout=TIMEOUT_S)
            if not info.is_published():
                print(f"publish to {topic} not acknowledged in {TIMEOUT_S} s", file=sys.stderr)
                return 1
            line = {
                "dev_eui": uplink["dev_eui"],
                "topic": topic,
                "sent_at": sent_at,
                "acked_at": time.time(),
            }
            print(json.dumps(line), flush=True)
    finally:
        client.disconnect()
        client.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
