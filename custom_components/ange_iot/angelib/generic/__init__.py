"""Generic devices: typed fields from what the network server already decoded.

A sensor outside the catalogue is still decoded by the network server with the vendor's own
codec: The Things Stack sends ``uplink_message.normalized_payload`` (the TTN Device
Repository's normalized schema, known names and units) and ``decoded_payload`` (free-form),
ChirpStack sends ``object`` (free-form). This package turns those into a stable map of typed
fields, each with a guessed meaning, unit and value kind, and applies an uplink to it.

Rules kept here (and tested):
* A field's key is its dotted path in the decoded object (nested objects flattened), so the
  same field is the same key across restarts and payload variations.
* Known normalized paths are facts (``guessed=False``); everything read from a vendor name,
  a unit suffix or a magnitude is a guess (``guessed=True``) the facility manager can correct.
* A field's value kind (number, text, on/off) is fixed when it is first seen: a later value of
  another type is shown as unknown and counted, never a new entity type.
* At most ``MAX_FIELDS`` fields per device; plain numbers beyond ``ENABLED_PLAIN`` start disabled.
* Nothing here raises on any JSON shape: ``apply`` returns what it could use.

The package by job: ``meanings`` (enums, limits, tables), ``fields`` (FieldSpec, the
facility manager's overrides), ``guess`` (reading decoded objects, guessing, coercion) and
``state`` (GenericState, ``apply``). Everything public is re-exported here.
"""

from __future__ import annotations

from .fields import (
    FieldOverride,
    FieldSpec,
    effective,
    parse_overrides,
)
from .guess import (
    Leaf,
    coerce,
    flatten,
    guess_meaning,
    guess_spec,
    leaf_unit,
    name_tokens,
    normalized_leaves,
    sanitise_key,
    to_bool,
    to_number,
)
from .meanings import (
    ENABLED_PLAIN,
    GENERIC_CODEC,
    GENERIC_MODEL_ID,
    INTERVAL_SAMPLES,
    MAX_DEPTH,
    MAX_FIELDS,
    MAX_KEY_LENGTH,
    MAX_LEAVES,
    MAX_TEXT_LENGTH,
    MEANINGS,
    MIN_INTERVAL_S,
    NORMALIZED,
    SOURCE_DECODED,
    SOURCE_NORMALIZED,
    UNIT_ALIASES,
    VALUE_PREFIX,
    Meaning,
    MeaningInfo,
    Role,
    ValueKind,
)
from .state import (
    GenericResult,
    GenericState,
    apply,
    canonical_fields,
    effective_fields,
    leaves_of,
    preview,
    roles_of,
    value_key,
)

__all__ = [
    "ENABLED_PLAIN",
    "GENERIC_CODEC",
    "GENERIC_MODEL_ID",
    "INTERVAL_SAMPLES",
    "MAX_DEPTH",
    "MAX_FIELDS",
    "MAX_KEY_LENGTH",
    "MAX_LEAVES",
    "MAX_TEXT_LENGTH",
    "MEANINGS",
    "MIN_INTERVAL_S",
    "NORMALIZED",
    "SOURCE_DECODED",
    "SOURCE_NORMALIZED",
    "UNIT_ALIASES",
    "VALUE_PREFIX",
    "FieldOverride",
    "FieldSpec",
    "GenericResult",
    "GenericState",
    "Leaf",
    "Meaning",
    "MeaningInfo",
    "Role",
    "ValueKind",
    "apply",
    "canonical_fields",
    "coerce",
    "effective",
    "effective_fields",
    "flatten",
    "guess_meaning",
    "guess_spec",
    "leaf_unit",
    "leaves_of",
    "name_tokens",
    "normalized_leaves",
    "parse_overrides",
    "preview",
    "roles_of",
    "sanitise_key",
    "to_bool",
    "to_number",
    "value_key",
]
