"""Widgets: they draw rows handed to them and post messages; they never do I/O."""
