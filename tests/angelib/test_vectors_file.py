"""The committed copy of the fact sheet's vectors stays the sheet's vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_components.ange_iot.angelib.codecs import CODECS

HERE = Path(__file__).resolve().parent
COPY = HERE / "data" / "vectors.json"
SHEET = HERE.parents[2] / "shared" / "specs" / "vectors.json"  # beside the repo


def test_copy_covers_every_codec() -> None:
    """Every codec has checked vectors; a missing file would silently test nothing."""
    vectors = json.loads(COPY.read_text(encoding="utf-8"))
    assert len(vectors) >= 32
    assert {v["codec"] for v in vectors} == set(CODECS)


@pytest.mark.skipif(not SHEET.is_file(), reason="shared/specs not beside this checkout")
def test_copy_matches_the_fact_sheet() -> None:
    """Refresh tests/angelib/data/vectors.json when the shared sheet changes."""
    assert json.loads(COPY.read_text(encoding="utf-8")) == json.loads(
        SHEET.read_text(encoding="utf-8")
    )
