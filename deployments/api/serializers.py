"""The Autostack client's JSON shapes for deployments, logs, stats and GitHub."""

from __future__ import annotations

from rest_framework import serializers

from controlpanel.templatetags.berth import duration
from deployments import projects
from deployments.events import STAGE_LABELS
from deployments.models import Deployment, DeploymentStage, LogLine, Project
from deployments.selectors import log_tail

MASK = "••••••"


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def author_name(deployment: Deployment) -> str:
    if deployment.commit_author:
        return deployment.commit_author
    if deployment.author_id and deployment.author:
        return deployment.author.name or deployment.author.email.split("@")[0]
    return ""


def deployment_summary(deployment: Deployment) -> dict:
    """A row of the Autostack deployments list, plus a few fields the pages use."""
    return {
        "id": str(deployment.pk),
        "repo": deployment.repo_name,
        "branch": deployment.branch,
        "status": deployment.status,
        "author": author_name(deployment),
        "commit": deployment.short_commit,
        "duration": duration(deployment.duration_seconds) if deployment.is_final else None,
        "timestamp": iso(deployment.created_at),
        "url": deployment.site.url,
        "source": deployment.source,
        "commitHash": deployment.commit_hash,
        "commitMessage": deployment.commit_message,
        "siteId": str(deployment.site_id),
        "projectId": str(deployment.project_id) if deployment.project_id else None,
    }


def recent_summary(deployment: Deployment) -> dict:
    return {
        key: value
        for key, value in deployment_summary(deployment).items()
        if key in ("id", "repo", "branch", "status", "timestamp", "duration", "author", "url")
    }


CANONICAL = ["queued", "building", "deploying"]


def stages(deployment: Deployment) -> list[dict]:
    """Queued, Building, Deploying and the outcome, each with its status and timestamp."""
    rows = {stage.name: stage for stage in deployment.stages.all()}
    final = deployment.status if deployment.is_final else DeploymentStage.Name.SUCCESS
    result = []
    if not rows and deployment.is_final:
        # Uploads, editor pages and rollbacks publish at once: no recorded stages.
        done = "completed" if deployment.status == Deployment.Status.SUCCESS else "failed"
        for name in [*CANONICAL, final]:
            result.append(
                {
                    "name": STAGE_LABELS[name],
                    "status": done if name == final else "completed",
                    "timestamp": iso(deployment.finished_at or deployment.created_at),
                }
            )
        return result
    for name in [*CANONICAL, final]:
        row = rows.get(name)
        status = row.status if row else "pending"
        if status == DeploymentStage.Status.IN_PROGRESS and deployment.is_final:
            # A cancel lands before the builder closes its stage: never show it still running.
            status = "completed" if deployment.status == Deployment.Status.SUCCESS else "failed"
        entry = {
            "name": STAGE_LABELS[name],
            "status": status,
            "timestamp": iso(row.completed_at or row.started_at) if row else None,
        }
        if row and row.error_message:
            entry["error"] = row.error_message
        result.append(entry)
    if deployment.status in (Deployment.Status.FAILED, Deployment.Status.CANCELLED):
        # Stages never reached stay "pending"; the outcome shows the reason.
        result[-1]["status"] = "failed"
        result[-1].setdefault("error", deployment.error)
    return result


def log_text(line: LogLine, start) -> str:
    elapsed = max(0, int((line.timestamp - start).total_seconds())) if start else 0
    return f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {line.message}"


def log_entry(line: LogLine) -> dict:
    return {
        "seq": line.seq,
        "timestamp": iso(line.timestamp),
        "level": line.level,
        "message": line.message,
    }


def project_data(project: Project) -> dict:
    env = projects.project_env(project)
    return {
        "id": str(project.pk),
        "name": project.name,
        "repository": project.repository,
        "branch": project.branch,
        "installCommand": project.install_command,
        "buildCommand": project.build_command,
        "outputDir": project.output_dir,
        "autoDeploy": project.auto_deploy,
        # Values are never shown back: names only.
        "envVars": dict.fromkeys(sorted(env), MASK),
        "siteId": str(project.site_id),
        "url": project.site.url,
    }


def deployment_detail(deployment: Deployment, *, tail: int = 200) -> dict:
    lines = log_tail(deployment=deployment, count=tail)
    start = deployment.started_at or deployment.created_at
    data = deployment_summary(deployment)
    data.update(
        {
            "stages": stages(deployment),
            "logs": [log_text(line, start) for line in lines],
            "logCount": lines[-1].seq if lines else 0,
            "error": deployment.error,
            "startedAt": iso(deployment.started_at),
            "finishedAt": iso(deployment.finished_at),
            "live": deployment.site.live_deployment_id == deployment.pk,
            "canCancel": deployment.status
            in (Deployment.Status.QUEUED, Deployment.Status.BUILDING),
            "canRedeploy": deployment.source == Deployment.Source.GIT
            and deployment.project_id is not None,
            "project": project_data(deployment.project) if deployment.project_id else None,
        }
    )
    return data


class DeploymentCreateSerializer(serializers.Serializer):
    """The Autostack client's request body (camelCase), plus the optional install command and
    auto-deploy."""

    repository = serializers.CharField(max_length=1000)
    branch = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    buildCommand = serializers.CharField(
        source="build_command",
        max_length=2000,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
    )
    outputDir = serializers.CharField(
        source="output_dir",
        max_length=255,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
    )
    envVars = serializers.CharField(
        source="env_vars",
        max_length=65536,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        trim_whitespace=False,
    )
    installCommand = serializers.CharField(
        source="install_command",
        max_length=2000,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
    )
    autoDeploy = serializers.BooleanField(
        source="auto_deploy", required=False, allow_null=True, default=None
    )


class RepositoryQuerySerializer(serializers.Serializer):
    """The query of the wizard's repository look-ups."""

    repository = serializers.CharField(max_length=1000)
    branch = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class BranchSerializer(serializers.Serializer):
    name = serializers.CharField()
    commit = serializers.CharField()


class RepositoryBranchesSerializer(serializers.Serializer):
    repository = serializers.CharField()
    name = serializers.CharField()
    defaultBranch = serializers.CharField()
    branches = BranchSerializer(many=True)


class RepositoryDetectSerializer(serializers.Serializer):
    repository = serializers.CharField()
    branch = serializers.CharField()
    framework = serializers.CharField(help_text="Empty when nothing was recognised.")
    installCommand = serializers.CharField(allow_blank=True)
    buildCommand = serializers.CharField(allow_blank=True)
    outputDir = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
