"""The benchmark's codec section runs and reports a positive rate for every codec.

Only a smoke test: ``scripts/bench`` is never timed in CI, so nothing here checks speed.
"""

from __future__ import annotations

import argparse

from bench import codecs as bench_codecs
from custom_components.ange_iot.angelib.codecs import CODECS


def test_codec_section_reports_every_codec() -> None:
    args = argparse.Namespace(quick=True, codecs_repeats=1, codecs_min_time=0.01)
    result = bench_codecs.run(args)
    figures = result["codecs"]
    assert set(figures) == set(CODECS)
    for codec_id, codec_figures in figures.items():
        assert codec_figures["frames"] > 0, codec_id
        assert codec_figures["frames_per_s"] > 0, codec_id
    rows = bench_codecs.rows(result)
    assert len(rows) == len(CODECS)
    assert all(len(row) == 4 for row in rows)
