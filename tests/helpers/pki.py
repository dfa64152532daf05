"""Certificates for tests: self-signed seals in PKCS#12 files and a CA chain like a real one."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)

SealKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def signing_usage() -> x509.KeyUsage:
    """Key usage of a seal: digital signature and non-repudiation."""
    return x509.KeyUsage(True, True, False, False, False, False, False, False, False)


def self_signed(
    key: SealKey,
    name: str,
    *,
    not_before: datetime = NOW - timedelta(days=1),
    days: int = 366,
    usage: x509.KeyUsage | None = None,
) -> x509.Certificate:
    """A self-signed certificate of `key` naming `name`, valid `days` from `not_before`."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(usage or signing_usage(), True)
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )


def p12_of(
    key: SealKey | None,
    cert: x509.Certificate,
    password: bytes | None,
    extra: list[x509.Certificate] | None = None,
    name: str = "seal",
) -> bytes:
    """A PKCS#12 file of `key` (none: certificates only), `cert` and the `extra` chain."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(name.encode(), key, cert, extra, encryption)


def make_p12(key: SealKey, name: str, password: bytes | None, with_key: bool = True) -> bytes:
    """A PKCS#12 file with `key` and a self-signed certificate naming `name`."""
    return p12_of(key if with_key else None, self_signed(key, name), password, name=name)


def _name(common: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Trust Services Limited"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _issued(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    days: int,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier("http://crl.example-trust.test/ca.crl")],
                        None,
                        None,
                        None,
                    )
                ]
            ),
            False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier("http://aia.example-trust.test/ca.crt"),
                    ),
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier("http://ocsp.example-trust.test"),
                    ),
                ]
            ),
            False,
        )
        .add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1.2.3"), None)]
            ),
            False,
        )
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    else:
        usage = signing_usage()
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False
        )
    return builder.add_extension(usage, True).sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Chain:
    """An RSA-3072 seal certificate issued by an RSA-4096 intermediate under an RSA-4096 root."""

    key: rsa.RSAPrivateKey
    leaf: x509.Certificate
    intermediate: x509.Certificate
    root: x509.Certificate

    def p12(self, password: bytes) -> bytes:
        """The seal's PKCS#12 file: its key, certificate and the chain above it."""
        return p12_of(self.key, self.leaf, password, [self.intermediate, self.root], "seal")


@functools.cache
def ca_chain() -> Chain:
    """The chain, made once per run (RSA keys of 4096 bits take seconds)."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    mid_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    root_name = _name("Example Trust Root CA G2", "Certification Authorities")
    mid_name = _name("Example Trust Qualified Seal CA G2", "Qualified Electronic Seals")
    root = _issued(root_name, root_key, root_name, root_key, ca=True, days=7300)
    mid = _issued(mid_name, mid_key, root_name, root_key, ca=True, days=3650)
    leaf_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Northgate Skin Clinic Ltd"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "VATGB-123456789"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Northgate Skin Clinic Ltd (CA issued)"),
        ]
    )
    leaf = _issued(leaf_name, leaf_key, mid_name, mid_key, ca=False, days=730)
    return Chain(leaf_key, leaf, mid, root)


def p12_with_a_foreign_certificate(password: bytes | None = None) -> bytes:
    """A PKCS#12 file whose certificate belongs to another key than the one it holds.

    Tools refuse to write one, so a matching file is made and its certificate swapped for a
    foreign one of the same length; the integrity MAC (optional in PKCS#12) is left out.
    """
    from asn1crypto import pkcs12 as asn1_pkcs12

    key = ec.generate_private_key(ec.SECP256R1())
    own = self_signed(key, "Northgate Skin Clinic")
    own_der = own.public_bytes(serialization.Encoding.DER)
    while True:
        other = self_signed(ec.generate_private_key(ec.SECP256R1()), "Northgate Skin Clinic")
        other_der = other.public_bytes(serialization.Encoding.DER)
        if len(other_der) == len(own_der):
            break
    data = pkcs12.serialize_key_and_certificates(
        b"seal", key, own, None, serialization.NoEncryption()
    )
    pfx = asn1_pkcs12.Pfx.load(data.replace(own_der, other_der))
    return bytes(asn1_pkcs12.Pfx({"version": pfx["version"], "auth_safe": pfx["auth_safe"]}).dump())
