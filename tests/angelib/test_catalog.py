"""The device catalogue: stable ids, LNS profile names and TTN device-repository ids."""

from __future__ import annotations

import re

import pytest

from custom_components.ange_iot.angelib.catalog import (
    MODELS,
    guess_model,
    model_for_profile,
    model_for_version_ids,
)

# Stored in config entries: never renamed.
MODEL_IDS = {
    "elsys_ers",
    "elsys_ers_lite",
    "elsys_ers_co2",
    "elsys_ers_eye",
    "elsys_ers_desk",
    "elsys_ers_sound",
    "elsys_ers_voc",
    "elsys_ems",
    "elsys_ems_desk",
    "elsys_elt_ultrasonic",
    "sensative_strips_comfort",
    "sensative_strips_guard",
    "sensative_strips_drip",
    "sensative_strips_presence",
    "milesight_em310_udl",
    "milesight_em500_udl",
    "milesight_em400_udl",
    "decentlab_dl_mbx",
    "axioma_w1",
    "kamstrup_flowiq_2200",
}

# Checked against TheThingsNetwork/lorawan-devices vendor/<brand>/ (index.yaml and the
# <model>.yaml device definitions).
TTN_IDS = {
    ("elsys", "ers"): "elsys_ers",
    ("elsys", "ers-lite"): "elsys_ers_lite",
    ("elsys", "ers-co2"): "elsys_ers_co2",
    ("elsys", "ers-eye"): "elsys_ers_eye",
    ("elsys", "ers-sound"): "elsys_ers_sound",
    ("elsys", "ers-voc"): "elsys_ers_voc",
    ("elsys", "ems"): "elsys_ems",
    ("elsys", "ems-desk"): "elsys_ems_desk",
    ("elsys", "elt-ultrasonic"): "elsys_elt_ultrasonic",
    ("sensative", "strips"): "sensative_strips_guard",
    ("milesight-iot", "em310-udl"): "milesight_em310_udl",
    ("milesight-iot", "em500-udl"): "milesight_em500_udl",
    ("milesight-iot", "em400-udl"): "milesight_em400_udl",
    ("milesight-iot", "em400-tld"): "milesight_em400_udl",
    ("decentlab", "dl-mbx"): "decentlab_dl_mbx",
    ("axioma", "qalcosonic-w1"): "axioma_w1",
    ("kamstrup", "flowiq2200-02k73a"): "kamstrup_flowiq_2200",
}
TTN_ID_RE = re.compile(r"^[a-z0-9](?:-?[a-z0-9])*$")


def test_model_ids_are_stable() -> None:
    assert set(MODELS) == MODEL_IDS
    for key, model in MODELS.items():
        assert model.id == key


def test_version_ids_table() -> None:
    table = {pair: model.id for model in MODELS.values() for pair in model.tts_version_ids}
    assert table == TTN_IDS
    pairs = [pair for model in MODELS.values() for pair in model.tts_version_ids]
    assert len(pairs) == len(set(pairs)), "a TTN id maps to two models"
    for brand, model_id in pairs:
        assert TTN_ID_RE.match(brand)
        assert TTN_ID_RE.match(model_id)
        assert len(model_id) <= 36


@pytest.mark.parametrize(("pair", "model_id"), sorted(TTN_IDS.items()))
def test_model_for_version_ids(pair: tuple[str, str], model_id: str) -> None:
    brand, model = pair
    assert model_for_version_ids(brand, model) is MODELS[model_id]
    assert model_for_version_ids(f" {brand.upper()} ", model.upper()) is MODELS[model_id]
    assert guess_model(f"{brand}/{model}") is MODELS[model_id]


@pytest.mark.parametrize(
    ("brand", "model"),
    [(None, "ers"), ("elsys", None), ("", ""), ("elsys", "ers-desk"), ("acme", "ers")],
)
def test_unknown_version_ids(brand: str | None, model: str | None) -> None:
    assert model_for_version_ids(brand, model) is None


@pytest.mark.parametrize(
    ("hint", "model_id"),
    [
        ("Elsys ERS Sound", "elsys_ers_sound"),  # ChirpStack device-profile name
        ("  kamstrup flowIQ 2200 ", "kamstrup_flowiq_2200"),
        ("EM310-UDL", "milesight_em310_udl"),
        ("elsys/ers-co2", "elsys_ers_co2"),  # TTS brand_id/model_id
        ("milesight-iot/em400-tld", "milesight_em400_udl"),
        ("Axioma/Qalcosonic-W1", "axioma_w1"),
    ],
)
def test_guess_model(hint: str, model_id: str) -> None:
    assert guess_model(hint) is MODELS[model_id]


@pytest.mark.parametrize(
    "hint", [None, "", "Test device-profile", "elsys", "elsys/", "/ers", "a/b/c", "elsys/ers/x"]
)
def test_guess_model_unknown(hint: str | None) -> None:
    assert guess_model(hint) is None


def test_profile_names_unchanged() -> None:
    assert model_for_profile("sensative strips") is MODELS["sensative_strips_guard"]
    assert model_for_profile("elsys ers desk") is MODELS["elsys_ers_desk"]
    assert model_for_profile(None) is None
