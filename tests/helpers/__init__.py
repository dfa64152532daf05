"""Builders the tests share; the Qt ones are in `ui`, for the Qt tests alone."""
