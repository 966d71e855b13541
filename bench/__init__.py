"""Benchmarks of Ånge IoT (issue #7): run with ``scripts/bench`` (``python -m bench``).

Each section is a module with ``NAME``, ``TITLE``, ``add_arguments``, ``run`` and ``rows``
(see ``bench/__main__.py``); shared helpers (an in-process Home Assistant, a private
Mosquitto broker, a raw MQTT publisher, CPU/RSS measurement, tables) live in
``bench/common.py``. Figures are printed, never asserted: this is not a test.
"""
