"""An invoice as a one-page PDF (both providers), with the operator's business details.

A small PDF 1.4 writer with the standard Helvetica fonts: text only, no dependency. Text is
Latin-1 (other characters become "?"), which the standard fonts can show.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from billing.models import Invoice

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
LEFT, RIGHT = 56, 539


def business() -> dict:
    return {
        "name": settings.BILLING_BUSINESS_NAME,
        "address": [line.strip() for line in settings.BILLING_BUSINESS_ADDRESS.split("|") if line],
        "tax_id": settings.BILLING_BUSINESS_TAX_ID,
    }


def _text(value) -> str:
    raw = str(value).encode("latin-1", "replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _date(value) -> str:
    return timezone.localtime(value).strftime("%d %b %Y") if value else "-"


def _money(amount, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


class _Page:
    def __init__(self):
        self.ops: list[str] = []

    def text(self, x, y, value, *, size=10, bold=False, right=False):
        font = "F2" if bold else "F1"
        if right:  # Helvetica averages about half the size per character
            x -= len(str(value)) * size * 0.5
        self.ops.append(f"BT /{font} {size} Tf {x:.1f} {y:.1f} Td ({_text(value)}) Tj ET")

    def line(self, y):
        self.ops.append(f"{LEFT} {y} m {RIGHT} {y} l 0.5 w S")


def _content(invoice: Invoice) -> bytes:
    page, y = _Page(), PAGE_HEIGHT - 64
    details = business()
    page.text(LEFT, y, details["name"], size=16, bold=True)
    page.text(RIGHT, y, "INVOICE", size=16, bold=True, right=True)
    for line in details["address"]:
        y -= 14
        page.text(LEFT, y, line)
    if details["tax_id"]:
        y -= 14
        page.text(LEFT, y, f"Tax id: {details['tax_id']}")
    y -= 32
    facts = [
        ("Invoice number", invoice.number),
        ("Billed to", invoice.team_name),
        ("Issued", _date(invoice.issued_at)),
        ("Due", _date(invoice.due_at)),
        ("Status", invoice.get_status_display()),
    ]
    if invoice.period_start:
        facts.append(("Period", f"{_date(invoice.period_start)} - {_date(invoice.period_end)}"))
    if invoice.paid_at:
        facts.append(("Paid", _date(invoice.paid_at)))
    for label, value in facts:
        page.text(LEFT, y, label, bold=True)
        page.text(LEFT + 120, y, value)
        y -= 14
    y -= 18
    page.text(LEFT, y, "Description", bold=True)
    page.text(380, y, "Qty", bold=True, right=True)
    page.text(460, y, "Unit", bold=True, right=True)
    page.text(RIGHT, y, "Amount", bold=True, right=True)
    y -= 6
    page.line(y)
    for line in invoice.lines.all():
        y -= 16
        page.text(LEFT, y, line.description[:60])
        page.text(380, y, line.quantity, right=True)
        page.text(460, y, f"{line.unit_amount:,.2f}", right=True)
        page.text(RIGHT, y, f"{line.amount:,.2f}", right=True)
    y -= 10
    page.line(y)
    for label, amount, bold in (
        ("Subtotal", invoice.subtotal, False),
        ("Tax", invoice.tax, False),
        ("Total", invoice.total, True),
    ):
        y -= 16
        page.text(400, y, label, bold=bold)
        page.text(RIGHT, y, _money(amount, invoice.currency), bold=bold, right=True)
    return "\n".join(page.ops).encode("latin-1")


def render(invoice: Invoice) -> bytes:
    """The PDF file's bytes."""
    content = _content(invoice)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
