"""The one uplink pipeline: dedup, decode with the device's codec, apply to state.

Every transport (simulator, ChirpStack, The Things Stack) feeds ``Pipeline.handle``.
Nothing in here raises on bad input: each outcome is returned and counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from . import generic
from .codecs import CODECS, DecodeError
from .device import ApplyResult, DeviceConfig, DeviceState, Frame
from .uplink import Uplink


class Outcome(StrEnum):
    """What happened to one uplink."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"  # older than the frames remembered: may have been applied; refused
    UNKNOWN_DEVICE = "unknown_device"
    DECODE_ERROR = "decode_error"


@dataclass(slots=True)
class Result:
    """The outcome of one uplink, with what changed or what was wrong."""

    outcome: Outcome
    dev_eui: str
    applied: ApplyResult | None = None
    error: str | None = None
    generic: generic.GenericResult | None = None  # a generic device's new fields and troubles


@dataclass(slots=True)
class TrackedDevice:
    """A configured device and its live state."""

    config: DeviceConfig
    state: DeviceState


class Pipeline:
    """Routes uplinks to configured devices."""

    def __init__(self) -> None:
        """Start with no devices and zeroed counters."""
        self.devices: dict[str, TrackedDevice] = {}
        self.counters: Counter[str] = Counter()

    def add_device(self, config: DeviceConfig, state: DeviceState | None = None) -> TrackedDevice:
        """Track a device (replacing its config if already tracked, keeping state)."""
        existing = self.devices.get(config.dev_eui)
        tracked = TrackedDevice(
            config=config,
            state=state or (existing.state if existing else DeviceState()),
        )
        self.devices[config.dev_eui] = tracked
        return tracked

    def remove_device(self, dev_eui: str) -> None:
        """Stop tracking a device; its uplinks become unknown."""
        self.devices.pop(dev_eui, None)

    def handle(self, uplink: Uplink) -> Result:
        """Dedup, decode and apply one uplink."""
        tracked = self.devices.get(uplink.dev_eui)
        if tracked is None:
            self.counters[Outcome.UNKNOWN_DEVICE] += 1
            return Result(Outcome.UNKNOWN_DEVICE, uplink.dev_eui)
        state = tracked.state
        frame = state.classify(uplink)
        if frame is Frame.DUPLICATE or frame is Frame.STALE:
            outcome = Outcome.DUPLICATE if frame is Frame.DUPLICATE else Outcome.STALE
            self.counters[outcome] += 1
            return Result(outcome, uplink.dev_eui)
        if tracked.config.is_generic:
            return self._handle_generic(tracked, uplink)
        codec = CODECS[tracked.config.model.codec]
        try:
            fields = codec.decode(uplink.fport, uplink.payload)
        except DecodeError as err:
            # Counted against the device; a garbled sender is not proof of life.
            state.rejected_frames += 1
            self.counters[Outcome.DECODE_ERROR] += 1
            return Result(Outcome.DECODE_ERROR, uplink.dev_eui, error=str(err))
        applied = state.apply(tracked.config, uplink, fields)
        self.counters[Outcome.APPLIED] += 1
        return Result(Outcome.APPLIED, uplink.dev_eui, applied=applied)

    def _handle_generic(self, tracked: TrackedDevice, uplink: Uplink) -> Result:
        """A generic device: what the network server decoded becomes its fields.

        Its own fields are stored under ``generic.VALUE_PREFIX`` keys; the fields whose role
        the facility manager chose also appear under their canonical names, so care checks,
        water meters and snow sites read them like any catalogue device's.
        """
        state, config = tracked.state, tracked.config
        if state.generic is None:
            state.generic = generic.GenericState()
        outcome = generic.apply(
            state.generic,
            config.field_overrides,
            uplink.lns_object,
            uplink.lns_normalized,
            received_at=uplink.received_at,
            warnings=uplink.lns_warnings,
        )
        config.learned_interval_s = state.generic.learned_interval_s
        applied = state.apply(config, uplink, {**outcome.values, **outcome.canonical})
        self.counters[Outcome.APPLIED] += 1
        return Result(Outcome.APPLIED, uplink.dev_eui, applied=applied, generic=outcome)
