"""Every new user gets a personal team; an owned object saved without a team joins the team
its creator acts in (so code written before teams, such as ``Site.objects.create(owner=...)``,
keeps working)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from teams import services

# Models that carry both ``team`` and the ``owner`` who created them.
OWNED_MODELS = ("hosting.Site", "deployments.Project", "domains.Domain")


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def on_user_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        services.team_personal_create(user=instance)


def default_team(sender, instance, raw=False, **kwargs):
    if raw or instance.team_id is not None or instance.owner_id is None:
        return
    instance.team = services.acting_team(instance.owner)


def connect() -> None:
    for label in OWNED_MODELS:
        pre_save.connect(default_team, sender=apps.get_model(label), dispatch_uid=f"team-{label}")
