"""The clinic seal and PAdES sealing and checking (pyHanko's only home, imported lazily)."""

from desktop.signing.seal import (
    CERT_FILE,
    FIELD_NAME,
    KEY_FILE,
    SealInfo,
    Verdict,
    ensure_seal,
    export_certificate_pem,
    import_pkcs12,
    load_seal_info,
    renew_seal,
    seal_pdf,
    seal_pdfs,
    verify_pdf,
)

__all__ = [
    "CERT_FILE",
    "FIELD_NAME",
    "KEY_FILE",
    "SealInfo",
    "Verdict",
    "ensure_seal",
    "export_certificate_pem",
    "import_pkcs12",
    "load_seal_info",
    "renew_seal",
    "seal_pdf",
    "seal_pdfs",
    "verify_pdf",
]
