"""Sheet content (pure): consent, aftercare and referral from a template and a consultation."""

from desktop.consent.compose import (
    DocumentContent,
    Template,
    compose_aftercare,
    compose_consent,
    compose_referral,
    format_date,
    format_datetime,
    missing_signer_roles,
    parse_template,
    required_signer_roles,
)

__all__ = [
    "DocumentContent",
    "Template",
    "compose_aftercare",
    "compose_consent",
    "compose_referral",
    "format_date",
    "format_datetime",
    "missing_signer_roles",
    "parse_template",
    "required_signer_roles",
]
