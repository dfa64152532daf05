"""The clinic seal and PAdES sealing and checking (pyHanko's only home, imported lazily)."""

from desktop.signing.keys import (
    CERT_FILE,
    KEY_FILE,
    LegacySeal,
    SealInfo,
    SealMaterial,
    certificate_info,
    check_material,
    generate_seal,
    material_from_pkcs12,
    read_legacy_folder,
    signature_space,
)
from desktop.signing.seal import FIELD_NAME, Verdict, seal_pdf, seal_pdfs, trial_seal, verify_pdf

__all__ = [
    "CERT_FILE",
    "FIELD_NAME",
    "KEY_FILE",
    "LegacySeal",
    "SealInfo",
    "SealMaterial",
    "Verdict",
    "certificate_info",
    "check_material",
    "generate_seal",
    "material_from_pkcs12",
    "read_legacy_folder",
    "seal_pdf",
    "seal_pdfs",
    "signature_space",
    "trial_seal",
    "verify_pdf",
]
