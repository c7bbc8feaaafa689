"""Stripe's webhook: signed deliveries only; each event stored by id and applied idempotently."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import events


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = events.stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except events.SignatureInvalid:
        return HttpResponse("Invalid signature.", status=400, content_type="text/plain")
    return JsonResponse({"received": True, "outcome": event.outcome})
