"""Tests of the Ånge IoT integration."""
