"""Signal receivers of the deployments app (connected in DeploymentsConfig.ready)."""

from __future__ import annotations

from allauth.socialaccount.models import SocialToken
from django.db.models.signals import post_save
from django.dispatch import receiver

from deployments.connections import github_token_received


@receiver(post_save, sender=SocialToken, dispatch_uid="deployments-github-token")
def _github_token_saved(sender, instance: SocialToken, **kwargs) -> None:
    github_token_received(social_token=instance)
