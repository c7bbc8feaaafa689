"""Events of billing's writes that other parts act on (sent after the change is saved).

``invoice_paid`` and ``invoice_voided`` carry ``invoice``: a purchase waiting for that invoice
is delivered, or cancelled (``billing.purchases`` listens)."""

from __future__ import annotations

from django.dispatch import Signal

invoice_paid = Signal()
invoice_voided = Signal()
