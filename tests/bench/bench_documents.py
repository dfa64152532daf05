"""Render + seal + store a consent and aftercare pair, next to a bare reportlab page."""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path

from reportlab.pdfgen import canvas

from desktop.clinic import Clinic
from desktop.demo import PAD_H, PAD_W, signature_strokes
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.patients import patient_fields

ROUNDS = 20


def bare_page() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=True)
    c.drawString(72, 720, "Consent to microneedling treatment")
    c.showPage()
    c.save()
    return buf.getvalue()


def test_sign_pair_latency(tmp_path: Path) -> None:
    clinic = signed_in(Clinic.open(tmp_path / "bench.sqlite", hasher=FAST_HASHER))
    strokes = signature_strokes("Łukasz Żółć")
    ready = []
    for i in range(ROUNDS + 1):
        p = clinic.patients.register(patient_fields(given_name=f"Łukasz{i}"))
        c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
        clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers() | {"G10": "IV"})
        clinic.documents.add_signature(
            c.id, "patient", "Łukasz Żółć", strokes, width=PAD_W, height=PAD_H
        )
        clinic.documents.add_signature(
            c.id, "clinician", "", strokes, width=PAD_W, height=PAD_H, password=OWNER_PASSWORD
        )
        ready.append(c.id)
    clinic.documents.sign(ready.pop())  # warm-up: fonts registered, seal created, imports
    pair = []
    for cid in ready:
        t0 = time.perf_counter()
        docs = clinic.documents.sign(cid)
        pair.append((time.perf_counter() - t0) * 1000)
        assert len(docs) == 2
    bare = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        bare_page()
        bare.append((time.perf_counter() - t0) * 1000)
    sizes = [d.size for d in clinic.documents.for_consultation(ready[0])]
    pair_ms, bare_ms = statistics.median(pair), statistics.median(bare)
    print(
        f"\nsign pair (render consent + aftercare, PAdES seal both, store): median "
        f"{pair_ms:.1f} ms over {ROUNDS} (min {min(pair):.1f}, max {max(pair):.1f}); bare "
        f"reportlab one-page canvas median {bare_ms:.2f} ms; ratio {pair_ms / bare_ms:.0f}x; "
        f"PDF sizes {sizes} bytes"
    )
    clinic.close()
