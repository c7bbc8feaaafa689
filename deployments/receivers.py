"""Signal receivers of the deployments app (connected in DeploymentsConfig.ready)."""

from __future__ import annotations

from allauth.socialaccount.models import SocialToken
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from deployments import dependency_cache
from deployments.connections import github_token_received
from deployments.models import Project


@receiver(post_save, sender=SocialToken, dispatch_uid="deployments-github-token")
def _github_token_saved(sender, instance: SocialToken, **kwargs) -> None:
    github_token_received(social_token=instance)


@receiver(post_delete, sender=Project, dispatch_uid="deployments-project-cache")
def _project_deleted(sender, instance: Project, **kwargs) -> None:
    """A deleted project (its site deleted) leaves no dependency cache behind."""
    project_id = instance.pk
    transaction.on_commit(lambda: dependency_cache.clear(project_id))
