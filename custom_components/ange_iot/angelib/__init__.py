"""Pure-Python core of Ånge IoT: codecs, LNS message models, simulator and rules.

Nothing in this package may import ``homeassistant``; a test enforces it. The
Home Assistant glue lives one level up in ``custom_components.ange_iot``.
"""
