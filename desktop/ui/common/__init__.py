"""Shared pieces of the window: error messages, running use cases, widgets, tables, printing."""
