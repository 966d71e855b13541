"""Settings and state stored by earlier versions load unchanged and are written back byte for byte.

Each text below is what ``as_dict`` wrote (as ``json.dumps``) before the engines were split
into modules and the settings got one shared (de)serialiser; changing any of them means the
stored format changed.
"""

from __future__ import annotations

import json

import pytest

from custom_components.ange_iot.angelib.care import ApartmentState, CareSettings
from custom_components.ange_iot.angelib.meters import MeterSettings, MeterState
from custom_components.ange_iot.angelib.snow import SnowSettings

CARE_SETTINGS = (
    '{"enabled": false, "timezone": "Europe/Stockholm", "morning_check": true, '
    '"morning_start": "06:00:30", "morning_deadline": "09:00", "inactivity_check": true, '
    '"inactivity_limit": 12600, "active_start": "07:00", "active_end": "22:00", '
    '"night_door": true, "night_start": "23:00", "night_end": "05:00", "grace": 1200, '
    '"reminder_interval": 0}'
)
# Meter settings and alerts as stored before reminders and escalation (issue 14).
METER_SETTINGS_BEFORE_REMINDERS = (
    '{"timezone": "Europe/Stockholm", "continuous_by_design": true, "night_start": "23:30", '
    '"night_end": "06:00", "night_check": "07:00", "night_flow_lph": 2.5, '
    '"high_use_factor": 3.0, "daily_limit_l": 900.0, "silent_after": 129600}'
)
METER_DEFAULTS_BEFORE_REMINDERS = (
    '{"timezone": "Europe/Stockholm", "continuous_by_design": false, "night_start": "00:00", '
    '"night_end": "06:00", "night_check": "07:00", "night_flow_lph": 5.0, '
    '"high_use_factor": 3.0, "daily_limit_l": null, "silent_after": 172800}'
)
METER_SETTINGS = (
    METER_SETTINGS_BEFORE_REMINDERS[:-1] + ', "reminder_interval": 3600, "escalation_delay": 1800}'
)
METER_DEFAULTS = (
    METER_DEFAULTS_BEFORE_REMINDERS[:-1] + ', "reminder_interval": 900, "escalation_delay": 0}'
)
SNOW_SETTINGS = '{"threshold_cm": 10.5, "min_rise_cm": 3.0}'
_NIGHT = "Lgh 1101|night_door|2026-03-23T00:30:00+00:00"
_OFFLINE = "Lgh 1101|sensor_offline|2026-03-23T06:00:00+00:00"
APARTMENT_STATE = (
    '{"started": "2026-03-22T05:00:00+00:00", "evaluated": "2026-03-23T06:00:00+00:00", '
    '"last_activity": "2026-03-23T00:30:00+00:00", '
    '"pending": [["2026-03-23T14:00:00+00:00", "motion"], ["2026-03-23T14:10:00+00:00", "door"]], '
    '"pause_from": "2026-03-23T13:00:00+00:00", "pause_until": null, "pause_applied": false, '
    '"reset_at": "2026-03-22T05:00:00+00:00", "disabled_since": null, "ok_since": null, '
    f'"alerts": [{{"id": "{_NIGHT}", "kind": "check_needed", "reason": "night_door", '
    '"since": "2026-03-23T00:30:00+00:00", "due": "2026-03-23T00:30:00+00:00", '
    '"watch_from": "2026-03-23T00:30:00+00:00", "acknowledged_by": "staff-1", '
    '"acknowledged_at": "2026-03-23T00:40:00+00:00", "ack_announced": true, "reminders": 0, '
    '"sensors": []}], '
    f'"offline": {{"id": "{_OFFLINE}", "kind": "sensor_offline", "reason": "sensor_silent", '
    '"since": "2026-03-23T05:30:00+00:00", "due": "2026-03-23T06:00:00+00:00", '
    '"watch_from": null, "acknowledged_by": null, "acknowledged_at": null, '
    '"ack_announced": false, "reminders": 3, "sensors": ["a81758fffe000001"]}, '
    '"deferred": [{"reason": "no_morning_activity", "watch_from": "2026-03-23T04:00:00+00:00"}], '
    f'"fired": ["{_NIGHT}|check_needed", "{_NIGHT}|acknowledged", "{_OFFLINE}|sensor_offline"]}}'
)
_ID = "0011223344556677"
METER_STATE = (
    '{"series": {"base": "2026-03-23T06:00:00+00:00", "base_total": 100.003, '
    '"floor": "2026-03-23T06:00:00+00:00", "offsets": [["2026-03-23T09:00:00+00:00", 0.5]], '
    '"start": "2026-03-23T06:00:00+00:00", '
    '"totals": [100.003, 100.01, null, 100.03, 100.04], "approx": [1, 4]}, '
    '"added_at": "2026-03-23T05:08:00+00:00", "last_seen": "2026-03-24T12:00:00+00:00", '
    '"alarms_since": {"leak": "2026-03-24T07:07:00+00:00"}, '
    '"backwards_since": "2026-03-24T12:00:00+00:00", "rejected_m3": 50.0, '
    '"rejected_at": "2026-03-24T12:00:00+00:00", '
    f'"active": [{{"dev_eui": "{_ID}", "alert": "night_flow", '
    '"since": "2026-03-23T23:00:00+00:00", "leak_rate_lph": 7.0, '
    f'"alert_id": "{_ID}|night_flow|2026-03-23T23:00:00+00:00", "source": "derived", '
    '"raised_at": "2026-03-24T06:00:00+00:00", "reminders": 4, "escalated": true}, '
    f'{{"dev_eui": "{_ID}", "alert": "leak", "since": "2026-03-24T07:07:00+00:00", '
    f'"leak_rate_lph": null, "alert_id": "{_ID}|leak|2026-03-24T07:07:00+00:00", '
    '"source": "meter", "raised_at": null, "reminders": 0, "escalated": false}]}'
)
_BOOKKEEPING = ', "raised_at": null, "reminders": 0, "escalated": false}'
METER_STATE_BEFORE_REMINDERS = METER_STATE.replace(
    ', "raised_at": "2026-03-24T06:00:00+00:00", "reminders": 4, "escalated": true}', "}"
).replace(_BOOKKEEPING, "}")


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (CareSettings, CARE_SETTINGS),
        (MeterSettings, METER_SETTINGS),
        (MeterSettings, METER_DEFAULTS),
        (SnowSettings, SNOW_SETTINGS),
        (ApartmentState, APARTMENT_STATE),
        (MeterState, METER_STATE),
    ],
)
def test_stored_text_round_trips(kind: type, text: str) -> None:
    """Loading stored text and storing it again gives the same bytes."""
    assert json.dumps(kind.from_dict(json.loads(text)).as_dict()) == text


def test_stored_settings_load_as_written() -> None:
    """The stored values mean what they meant: the defaults and a changed field or two."""
    care = CareSettings.from_dict(json.loads(CARE_SETTINGS))
    assert not care.enabled
    assert care.inactivity_limit.total_seconds() == 12600
    assert MeterSettings.from_dict(json.loads(METER_DEFAULTS)) == MeterSettings()
    assert SnowSettings.from_dict(json.loads(SNOW_SETTINGS)) == SnowSettings(
        threshold_cm=10.5, min_rise_cm=3.0
    )


@pytest.mark.parametrize(
    ("kind", "before", "now"),
    [
        (MeterSettings, METER_SETTINGS_BEFORE_REMINDERS, METER_SETTINGS),
        (MeterSettings, METER_DEFAULTS_BEFORE_REMINDERS, METER_DEFAULTS),
        (MeterState, METER_STATE_BEFORE_REMINDERS, METER_STATE),
    ],
)
def test_meter_texts_from_before_reminders_load(kind: type, before: str, now: str) -> None:
    """Stored before reminders: loads as it was, written back with the new fields at their
    defaults (15 min reminders, no escalation; alerts not yet raised here, none sent)."""
    stored = kind.from_dict(json.loads(before)).as_dict()
    expected = json.loads(now)
    if kind is MeterSettings:
        expected |= {"reminder_interval": 900, "escalation_delay": 0}
    else:
        for alert in expected["active"]:
            alert |= {"raised_at": None, "reminders": 0, "escalated": False}
    assert stored == expected
