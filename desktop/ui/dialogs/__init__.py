"""Dialogs: settings, user accounts, the audit trail, passwords and test spots."""
