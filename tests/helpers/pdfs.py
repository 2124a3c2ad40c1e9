"""PDF factories for tests: text, blank, encrypted, truncated, garbage and pathological files.

Built in code (a tiny hand-written PDF writer plus pypdf for encryption) so no binary
fixtures live in the repository.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _assemble(objects: list[bytes]) -> bytes:
    """Objects numbered 1..n (object 1 is the catalog), with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def text_pdf(pages: list[str] | None = None, *, title: str | None = None) -> bytes:
    """A PDF with one page per string (lines split on newlines), Helvetica text."""
    if pages is None:
        pages = [
            "Pricing\nThe basic plan costs 10 euros a month.",
            "Support\nWrite to help@example.com for support.",
        ]
    n = len(pages)
    # 1 catalog, 2 pages, 3 font, then per page: page object, content stream; info last.
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        lines = text.split("\n")
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    data = _assemble(objects)
    if title is not None:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        writer.add_metadata({"/Title": title})
        buf = io.BytesIO()
        writer.write(buf)
        data = buf.getvalue()
    return data


def blank_pdf(pages: int = 2) -> bytes:
    """Pages with no text layer at all (what a scan without OCR looks like to us)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _encrypted(user_password: str, owner_password: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(["Secret plan\nAES text."]))))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm=algorithm)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def aes_empty_password_pdf() -> bytes:
    """AES-256 encrypted with an empty user password: opens without asking anyone."""
    return _encrypted("", "owner-secret", "AES-256")


def password_pdf() -> bytes:
    """Needs a password we do not have."""
    return _encrypted("letmein", "owner-secret", "AES-128")


def truncated_pdf() -> bytes:
    """A text PDF cut in the middle of its objects (no xref, no trailer)."""
    data = text_pdf()
    return data[: len(data) // 3]


def garbage_pdf() -> bytes:
    """Not a PDF at all, whatever the file name says."""
    return b"\x00\x17garbage, not a PDF\xff" * 64


def pathological_pdf() -> bytes:
    """A page tree whose /Kids points back at itself: naive walkers loop or recurse."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R 2 0 R] /Count 1000000 >>",
    ]
    return _assemble(objects)
