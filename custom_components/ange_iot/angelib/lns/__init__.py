"""Parsers (and, for the simulator, builders) of LoRaWAN network-server messages."""
