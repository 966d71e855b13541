"""Tests of the pure package (no Home Assistant fixtures needed)."""
