"""Clinic Intake: vitiligo-aware microneedling intake, consent and aftercare."""

__version__ = "0.1.0"
