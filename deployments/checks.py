"""System checks of the build pipeline (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def build_sandbox_opt_out(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Warn when the operator has turned the build sandbox off."""
    if settings.BUILD_SANDBOX != "none":
        return []
    return [
        checks.Warning(
            "Builds run without a sandbox (BUILD_SANDBOX=none): a build can read the panel's "
            "environment and files and reach its database.",
            hint="Install bubblewrap and slirp4netns and unset BUILD_SANDBOX (docs/builds.md).",
            id="deployments.W001",
        )
    ]
