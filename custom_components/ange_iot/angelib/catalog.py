"""The device catalogue: which hardware we support and what each model reports.

Model ids are stable strings stored in config entries; never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a device is for; the HA layer and later the rules key off this."""

    ACTIVITY = "activity"  # motion / presence / door in an apartment
    CLIMATE = "climate"
    WATER_METER = "water_meter"
    DISTANCE = "distance"  # ultrasonic: snow depth, levels
    LEAK = "leak"
    GENERIC = "generic"  # decoded by the network server; its roles say what it is for


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    """One supported hardware model."""

    id: str
    manufacturer: str
    name: str
    codec: str
    report_interval_s: int  # the device's usual (default-configured) report interval
    kind: Kind
    fields: frozenset[str]  # canonical fields this model can report
    profile_names: tuple[str, ...] = ()  # lower-case LNS profile names that identify it
    # (brand_id, model_id) pairs of the TTN device repository (TheThingsNetwork/lorawan-devices,
    # vendor/<brand>/<model>.yaml); TTS sends them as uplink_message.version_ids.
    tts_version_ids: tuple[tuple[str, str], ...] = ()


_CLIMATE = frozenset({"temperature", "humidity", "battery_voltage"})
_MOTION = _CLIMATE | {"illuminance", "motion_count"}
_METER_FLAGS = frozenset({"leak", "burst", "dry", "reverse_flow", "tamper", "low_battery"})

MODELS: dict[str, Model] = {
    m.id: m
    for m in (
        Model(
            id="elsys_ers",
            manufacturer="Elsys",
            name="ERS",
            codec="elsys",
            report_interval_s=600,
            kind=Kind.ACTIVITY,
            fields=_MOTION,
            profile_names=("elsys ers",),
            tts_version_ids=(("elsys", "ers"),),
        ),
        Model(
            id="elsys_ers_lite",
            manufacturer="Elsys",
            name="ERS Lite",
            codec="elsys",
            report_interval_s=600,
            kind=Kind.CLIMATE,
            fields=_CLIMATE,
            profile_names=("elsys ers lite",),
            tts_version_ids=(("elsys", "ers-lite"),),
        ),
        Model(
            id="elsys_ers_co2",
            manufacturer="Elsys",
            name="ERS CO2",
            codec="elsys",
            report_interval_s=600,
            kind=Kind.ACTIVITY,
            fields=_MOTION | {"co2"},
            profile_names=("elsys ers co2",),
            tts_version_ids=(("elsys", "ers-co2"),),
        ),
        Model(
            id="elsys_ers_eye",
            manufacturer="Elsys",
            name="ERS Eye",
            codec="elsys",
            report_interval_s=600,
            kind=Kind.ACTIVITY,
            fields=_MOTION | {"occupancy"},
            profile_names=("elsys ers eye",),
            tts_version_ids=(("elsys", "ers-eye"),),
        ),
        Model(
            id="elsys_ers_desk",
            manufacturer="Elsys",
            name="ERS Desk",
            codec="elsys",
            report_interval_s=600,
            kind=Kind.ACTIVITY,
            fields=_CLIMATE | {"illuminance", "occupancy"},
            profile_names=("elsys ers desk",),
        ),
        Model(
            id="elsys_ers_sound",
            manufacturer="Elsys",
            name="ERS Sound",
            codec="elsys",
            report_interval_s=600,
            kind=Kind.ACTIVITY,
            fields=_MOTION | {"sound_peak", "sound_avg"},
            profile_names=("elsys ers sound",),
            tts_version_ids=(("elsys", "ers-sound"),),
        ),
        Model(
            id="elsys_ers_voc",
            manufacturer="Elsys",
            name="ERS VOC",
            codec="elsys",
            report_interval_s=600,
            kind=Kind.ACTIVITY,
            fields=_MOTION | {"tvoc"},
            profile_names=("elsys ers voc",),
            tts_version_ids=(("elsys", "ers-voc"),),
        ),
        Model(
            id="elsys_ems",
            manufacturer="Elsys",
            name="EMS",
            codec="elsys",
            report_interval_s=1200,
            kind=Kind.CLIMATE,
            fields=_CLIMATE,
            profile_names=("elsys ems",),
            # vendor/elsys/ems.yaml exists; not in the (older) stored index.yaml seen
            tts_version_ids=(("elsys", "ems"),),
        ),
        Model(
            id="elsys_ems_desk",
            manufacturer="Elsys",
            name="EMS Desk",
            codec="elsys",
            report_interval_s=1200,
            kind=Kind.ACTIVITY,
            fields=_CLIMATE | {"occupancy"},
            profile_names=("elsys ems desk",),
            # vendor/elsys/ems-desk.yaml exists; not in the (older) stored index.yaml seen
            tts_version_ids=(("elsys", "ems-desk"),),
        ),
        Model(
            id="elsys_elt_ultrasonic",
            manufacturer="Elsys",
            name="ELT Ultrasonic",
            codec="elsys",
            report_interval_s=1200,
            kind=Kind.DISTANCE,
            fields=frozenset(
                {"distance", "temperature", "humidity", "pressure", "battery_voltage"}
            ),
            profile_names=("elsys elt ultrasonic", "elsys elt snow"),
            tts_version_ids=(("elsys", "elt-ultrasonic"),),
        ),
        Model(
            id="sensative_strips_comfort",
            manufacturer="Sensative",
            name="Strips Comfort",
            codec="sensative_strips",
            report_interval_s=3600,
            kind=Kind.CLIMATE,
            fields=frozenset({"battery", "temperature", "humidity", "illuminance"}),
            profile_names=("sensative strips comfort",),
        ),
        Model(
            id="sensative_strips_guard",
            manufacturer="Sensative",
            name="Strips Guard",
            codec="sensative_strips",
            report_interval_s=3600,
            kind=Kind.ACTIVITY,
            fields=frozenset({"battery", "temperature", "door", "door_alarm"}),
            profile_names=("sensative strips guard", "sensative strips"),
            # TTN has one generic "strips" (Strips - Multisensor) for every variant; like the
            # generic "sensative strips" profile name it falls back to Guard.
            tts_version_ids=(("sensative", "strips"),),
        ),
        Model(
            id="sensative_strips_drip",
            manufacturer="Sensative",
            name="Strips Drip",
            codec="sensative_strips",
            report_interval_s=3600,
            kind=Kind.LEAK,
            fields=frozenset({"battery", "temperature", "water_leak", "wetness"}),
            profile_names=("sensative strips drip",),
        ),
        Model(
            id="sensative_strips_presence",
            manufacturer="Sensative",
            name="Strips Presence",
            codec="sensative_strips",
            report_interval_s=3600,
            kind=Kind.ACTIVITY,
            fields=frozenset({"battery", "temperature", "presence", "close_proximity"}),
            profile_names=("sensative strips presence",),
        ),
        Model(
            id="milesight_em310_udl",
            manufacturer="Milesight",
            name="EM310-UDL",
            codec="milesight",
            report_interval_s=1200,
            kind=Kind.DISTANCE,
            fields=frozenset({"battery", "distance", "tilt"}),
            profile_names=("milesight em310-udl", "em310-udl"),
            # vendor/milesight-iot/em310-udl.yaml exists; not in the stored index.yaml seen
            tts_version_ids=(("milesight-iot", "em310-udl"),),
        ),
        Model(
            id="milesight_em500_udl",
            manufacturer="Milesight",
            name="EM500-UDL",
            codec="milesight",
            report_interval_s=600,
            kind=Kind.DISTANCE,
            fields=frozenset({"battery", "distance"}),
            profile_names=("milesight em500-udl", "em500-udl"),
            tts_version_ids=(("milesight-iot", "em500-udl"),),
        ),
        Model(
            id="milesight_em400_udl",
            manufacturer="Milesight",
            name="EM400-UDL/TLD",
            codec="milesight",
            report_interval_s=1800,
            kind=Kind.DISTANCE,
            fields=frozenset({"battery", "distance", "temperature", "tilt"}),
            profile_names=("milesight em400-udl", "milesight em400-tld", "em400-udl"),
            # em400-udl/-tld.yaml exist; not in the stored index.yaml seen
            tts_version_ids=(("milesight-iot", "em400-udl"), ("milesight-iot", "em400-tld")),
        ),
        Model(
            id="decentlab_dl_mbx",
            manufacturer="Decentlab",
            name="DL-MBX",
            codec="decentlab_mbx",
            report_interval_s=600,
            kind=Kind.DISTANCE,
            fields=frozenset({"distance", "valid_samples", "battery_voltage"}),
            profile_names=("decentlab dl-mbx",),
            tts_version_ids=(("decentlab", "dl-mbx"),),
        ),
        Model(
            id="axioma_w1",
            manufacturer="Axioma Metering",
            name="Qalcosonic W1",
            codec="axioma_w1",
            report_interval_s=6 * 3600,
            kind=Kind.WATER_METER,
            fields=frozenset(
                {"volume", "meter_time", "water_temperature", "freeze", "permanent_error"}
                | _METER_FLAGS
            ),
            profile_names=("axioma qalcosonic w1", "axioma w1", "qalcosonic w1"),
            tts_version_ids=(("axioma", "qalcosonic-w1"),),
        ),
        Model(
            id="kamstrup_flowiq_2200",
            manufacturer="Kamstrup",
            name="flowIQ 2200",
            codec="kamstrup_flowiq",
            report_interval_s=3600,
            kind=Kind.WATER_METER,
            fields=frozenset({"volume", "meter_time"} | _METER_FLAGS),
            profile_names=("kamstrup flowiq 2200", "kamstrup flowiq"),
            # TTN lists only configuration 02K73A (flowIQ 2200 OMS over LoRaWAN)
            tts_version_ids=(("kamstrup", "flowiq2200-02k73a"),),
        ),
    )
}


# Any sensor the network server decodes (angelib.generic): not in MODELS, which lists the
# hardware we have a codec for. Its kinds come from the roles of its fields.
GENERIC = Model(
    id="generic",
    manufacturer="",
    name="Generic device",
    codec="lns",
    report_interval_s=3600,  # until learned from the first uplinks' spacing or set
    kind=Kind.GENERIC,
    fields=frozenset(),
)


def model_by_id(model_id: str) -> Model:
    """A catalogue model or the generic device (KeyError for an unknown id)."""
    return GENERIC if model_id == GENERIC.id else MODELS[model_id]


def model_for_profile(profile_name: str | None) -> Model | None:
    """Guess a model from an LNS device-profile name (exact, case-insensitive)."""
    if not profile_name:
        return None
    wanted = profile_name.strip().lower()
    for model in MODELS.values():
        if wanted in model.profile_names:
            return model
    return None


def model_for_version_ids(brand_id: str | None, model_id: str | None) -> Model | None:
    """The model with TTN device-repository ids ``brand_id``/``model_id`` (case-insensitive)."""
    if not brand_id or not model_id:
        return None
    wanted = (brand_id.strip().lower(), model_id.strip().lower())
    for model in MODELS.values():
        if wanted in model.tts_version_ids:
            return model
    return None


def guess_model(profile_hint: str | None) -> Model | None:
    """Guess a model from ``Uplink.profile_hint``.

    ChirpStack sends a device-profile name (``model_for_profile``); TTS hints are
    ``"brand_id/model_id"`` from the device repository (``model_for_version_ids``).
    """
    if not profile_hint:
        return None
    model = model_for_profile(profile_hint)
    if model is None and profile_hint.count("/") == 1:
        brand, model_id = profile_hint.split("/")
        model = model_for_version_ids(brand, model_id)
    return model
