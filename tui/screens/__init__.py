"""Screens: thin compositions of widgets, fed rows once a frame."""
