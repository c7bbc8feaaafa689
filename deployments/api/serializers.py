"""The Autostack client's JSON shapes for deployments, logs, stats and GitHub."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controlpanel.api.rendering import drf_time, representation
from controlpanel.api.schema import listing, paginated
from controlpanel.templatetags.berth import duration
from deployments.events import STAGE_LABELS
from deployments.models import Deployment, DeploymentStage, LogLine
from deployments.projects import project_env
from deployments.selectors import TailLine, log_tail

MASK = "••••••"


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def author_name(deployment: Deployment) -> str:
    if deployment.commit_author:
        return deployment.commit_author
    if deployment.author_id and deployment.author:
        return deployment.author.name or deployment.author.email.split("@")[0]
    return ""


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


# --- answers ----------------------------------------------------------------------------------


class DeploymentSummarySerializer(serializers.Serializer):
    """A row of the Autostack deployments list, plus a few fields the pages use."""

    id = serializers.UUIDField(source="pk")
    repo = serializers.CharField(source="repo_name")
    branch = serializers.CharField()
    status = serializers.ChoiceField(choices=Deployment.Status.choices)
    author = serializers.SerializerMethodField()
    commit = serializers.CharField(source="short_commit")
    duration = serializers.SerializerMethodField()
    timestamp = serializers.DateTimeField(source="created_at")
    url = serializers.CharField(source="site.url")
    previewUrl = serializers.CharField(
        source="preview_url",
        allow_null=True,
        help_text="For a preview build: its preview address (<branch>--<slug>.<SITES_DOMAIN>).",
    )
    deploymentUrl = serializers.CharField(
        source="own_url",
        allow_null=True,
        help_text=(
            "This deployment's own immutable address (<short id>--<slug>.<SITES_DOMAIN>), "
            "serving its files whatever is live; null until it succeeded."
        ),
    )
    source = serializers.ChoiceField(choices=Deployment.Source.choices)
    commitHash = serializers.CharField(source="commit_hash")
    commitMessage = serializers.CharField(source="commit_message")
    siteId = serializers.UUIDField(source="site_id")
    projectId = serializers.UUIDField(source="project_id", allow_null=True)

    def get_author(self, deployment) -> str:
        return author_name(deployment)

    def get_duration(self, deployment) -> str | None:
        return duration(deployment.duration_seconds) if deployment.is_final else None

    def to_representation(self, deployment):
        # The same values as the declared fields give, read directly: DRF's per-field
        # attribute lookup cost ~0.4 ms for a page of ten rows, most of a list's serializing.
        return representation(self, self.summary_values(deployment), deployment)

    def summary_values(self, deployment) -> dict:
        project_id = deployment.project_id
        return {
            "id": str(deployment.pk),
            "repo": deployment.repo_name,
            "branch": deployment.branch,
            "status": str(deployment.status),
            "author": author_name(deployment),
            "commit": deployment.short_commit,
            "duration": self.get_duration(deployment),
            "timestamp": drf_time(self, deployment.created_at),
            "url": deployment.site.url,
            "previewUrl": deployment.preview_url,
            "deploymentUrl": deployment.own_url,
            "source": str(deployment.source),
            "commitHash": deployment.commit_hash,
            "commitMessage": deployment.commit_message,
            "siteId": str(deployment.site_id),
            "projectId": None if project_id is None else str(project_id),
        }


class RecentDeploymentSerializer(DeploymentSummarySerializer):
    """The dashboard's short form of a deployment."""

    class Meta:
        fields = ["id", "repo", "branch", "status", "author", "duration", "timestamp", "url"]

    def get_fields(self):
        fields = super().get_fields()
        return {name: fields[name] for name in self.Meta.fields}


class StageSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField(help_text="pending, in_progress, completed or failed")
    timestamp = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(required=False, help_text="Present when the stage failed.")


class ProjectSerializer(serializers.Serializer):
    """A project's build settings; environment variables by name only, values masked."""

    id = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    repository = serializers.CharField()
    branch = serializers.CharField()
    installCommand = serializers.CharField(source="install_command")
    buildCommand = serializers.CharField(source="build_command")
    outputDir = serializers.CharField(source="output_dir")
    autoDeploy = serializers.BooleanField(source="auto_deploy")
    previewBranches = serializers.CharField(
        source="preview_branches",
        help_text="Other branches that build previews: '*', a pattern, or empty for none.",
    )
    envVars = serializers.SerializerMethodField()
    siteId = serializers.UUIDField(source="site_id")
    url = serializers.CharField(source="site.url")

    previewEnvVars = serializers.SerializerMethodField()

    def get_envVars(self, project) -> dict[str, str]:
        return dict.fromkeys(sorted(project_env(project)), MASK)

    def get_previewEnvVars(self, project) -> dict[str, str]:
        return dict.fromkeys(sorted(project_env(project, preview=True)), MASK)

    def to_representation(self, project):
        # Read directly, as the summary is (DRF deep-copied every declared field per detail).
        values = {
            "id": str(project.pk),
            "name": _text(project.name),
            "repository": _text(project.repository),
            "branch": _text(project.branch),
            "installCommand": _text(project.install_command),
            "buildCommand": _text(project.build_command),
            "outputDir": _text(project.output_dir),
            "autoDeploy": _boolean(self, "autoDeploy", project.auto_deploy),
            "previewBranches": _text(project.preview_branches),
            "envVars": self.get_envVars(project),
            "siteId": None if project.site_id is None else str(project.site_id),
            "url": None if project.site is None else _text(project.site.url),
            "previewEnvVars": self.get_previewEnvVars(project),
        }
        return representation(self, values, project)


def _text(value) -> str | None:
    """What DRF's CharField answers (None stays None)."""
    return None if value is None else str(value)


def _boolean(serializer, name: str, value):
    """What DRF's BooleanField answers (its own conversion for anything but a bool)."""
    if value is None or isinstance(value, bool):
        return value
    return serializers.BooleanField().to_representation(value)


class CacheEntrySerializer(serializers.Serializer):
    """One cached install: the folders it holds and the files its key hashes."""

    key = serializers.CharField(source="name", help_text="SHA-256 of the install's inputs.")
    folders = serializers.ListField(child=serializers.CharField())
    inputs = serializers.ListField(child=serializers.CharField())
    sizeBytes = serializers.IntegerField(source="size")
    lastUsedAt = serializers.DateTimeField(source="last_used_at")


class ProjectCacheSerializer(serializers.Serializer):
    """A project's dependency cache: total size (download caches included) and its limit."""

    sizeBytes = serializers.IntegerField(source="size")
    limitBytes = serializers.IntegerField(source="limit")
    downloadCacheBytes = serializers.IntegerField(source="tools_size")
    entries = CacheEntrySerializer(many=True)


class ProjectCacheClearedSerializer(serializers.Serializer):
    freedBytes = serializers.IntegerField(source="freed")
    cache = ProjectCacheSerializer()


class DeploymentDetailSerializer(DeploymentSummarySerializer):
    """One deployment with its stages, the last log lines (``[mm:ss] text``) and its project."""

    stages = serializers.SerializerMethodField()
    logs = serializers.SerializerMethodField()
    logCount = serializers.SerializerMethodField()
    error = serializers.CharField()
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)
    live = serializers.SerializerMethodField()
    canCancel = serializers.SerializerMethodField()
    canRedeploy = serializers.SerializerMethodField()
    project = ProjectSerializer(allow_null=True)

    def _tail(self, deployment) -> list[TailLine]:
        cache = self.context.setdefault("log_tails", {})
        if deployment.pk not in cache:
            cache[deployment.pk] = log_tail(deployment=deployment, count=LOG_TAIL)
        return cache[deployment.pk]

    @extend_schema_field(StageSerializer(many=True))
    def get_stages(self, deployment) -> list[dict]:
        return stages(deployment)

    def get_logs(self, deployment) -> list[str]:
        start = deployment.started_at or deployment.created_at
        return [log_text(line, start) for line in self._tail(deployment)]

    def get_logCount(self, deployment) -> int:
        lines = self._tail(deployment)
        return lines[-1].seq if lines else 0

    def get_live(self, deployment) -> bool:
        return deployment.site.live_deployment_id == deployment.pk

    def get_canCancel(self, deployment) -> bool:
        status = Deployment.Status
        return deployment.status in (status.UPLOADING, status.QUEUED, status.BUILDING)

    def get_canRedeploy(self, deployment) -> bool:
        return deployment.source == Deployment.Source.GIT and deployment.project_id is not None

    def summary_values(self, deployment) -> dict:
        values = super().summary_values(deployment)
        project = deployment.project
        values.update(
            stages=self.get_stages(deployment),
            logs=self.get_logs(deployment),
            logCount=self.get_logCount(deployment),
            error=_text(deployment.error),
            startedAt=drf_time(self, deployment.started_at),
            finishedAt=drf_time(self, deployment.finished_at),
            live=self.get_live(deployment),
            canCancel=self.get_canCancel(deployment),
            canRedeploy=self.get_canRedeploy(deployment),
            project=None
            if project is None
            else ProjectSerializer(context=self.context).to_representation(project),
        )
        return values


class LogEntrySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    level = serializers.CharField()
    message = serializers.CharField()

    def to_representation(self, line):
        # What the fields give (the time in the current time zone, ISO 8601, "Z" for UTC),
        # without DRF's per-field lookups and time zone look-up on each of up to 1,000 lines.
        return {
            "seq": int(line.seq),
            "timestamp": drf_time(self, line.timestamp),
            "level": str(line.level),
            "message": str(line.message),
        }


LOG_TAIL = 200

DeploymentPageSerializer = paginated(
    "DeploymentPageSerializer", "deployments", DeploymentSummarySerializer
)
RecentDeploymentsSerializer = listing(
    "RecentDeploymentsSerializer", "recentDeployments", RecentDeploymentSerializer
)


class LogPageSerializer(
    paginated("LogLinesSerializer", "logs", LogEntrySerializer)  # type: ignore[misc]
):
    """Stored log lines, oldest first, and the deployment's status now."""

    status = serializers.ChoiceField(choices=Deployment.Status.choices)


class DashboardNumbersSerializer(serializers.Serializer):
    totalDeployments = serializers.IntegerField()
    weeklyChange = serializers.CharField(help_text="Deployments in the last 7 days, as '+N'.")
    activeProjects = serializers.IntegerField()
    todayDeployments = serializers.IntegerField()
    successRate = serializers.IntegerField(allow_null=True, help_text="Percent, last 30 days.")
    monthlySuccessChange = serializers.IntegerField()
    avgDeployTime = serializers.CharField()
    timeImprovement = serializers.CharField()


class DashboardSerializer(serializers.Serializer):
    stats = DashboardNumbersSerializer()
    recentDeployments = RecentDeploymentSerializer(many=True)
    githubConnected = serializers.BooleanField()

    def to_representation(self, dashboard):
        # Read directly (DRF deep-copied the declared fields of all three serializers).
        stats = dashboard["stats"]
        numbers = DashboardNumbersSerializer(context=self.context)
        row = RecentDeploymentSerializer(context=self.context)
        values = {
            "stats": representation(
                numbers,
                {name: _number(stats[name]) for name in _INTEGERS}
                | {name: _text(stats[name]) for name in _TEXTS},
                stats,
            ),
            "recentDeployments": [row.to_representation(d) for d in dashboard["recentDeployments"]],
            "githubConnected": _boolean(self, "githubConnected", dashboard["githubConnected"]),
        }
        return representation(self, values, dashboard)


_INTEGERS = (
    "totalDeployments",
    "activeProjects",
    "todayDeployments",
    "successRate",
    "monthlySuccessChange",
)
_TEXTS = ("weeklyChange", "avgDeployTime", "timeImprovement")


def _number(value) -> int | None:
    """What DRF's IntegerField answers (None stays None)."""
    return None if value is None else int(value)


# --- GitHub -------------------------------------------------------------------------------------


class GitHubConnectionSerializer(serializers.Serializer):
    """Serializes ``{"connection": GitHubConnection | None, "configured": bool}``."""

    connected = serializers.SerializerMethodField()
    configured = serializers.BooleanField()
    username = serializers.CharField(source="connection.github_username", allow_null=True)
    githubId = serializers.CharField(source="connection.github_id", allow_null=True)
    connectedAt = serializers.DateTimeField(source="connection.connected_at", allow_null=True)

    def get_connected(self, state) -> bool:
        return state["connection"] is not None


class GitHubAuthorizeSerializer(GitHubConnectionSerializer):
    authorizeUrl = serializers.CharField(help_text="Send the browser here to authorise Berth.")
    url = serializers.CharField(source="authorizeUrl")


class GitHubDisconnectedSerializer(GitHubConnectionSerializer):
    message = serializers.CharField()


class RepositorySerializer(serializers.Serializer):
    """A GitHub repository as the deploy wizard shows it (``deployments.github.repo_summary``)."""

    id = serializers.CharField()
    name = serializers.CharField()
    fullName = serializers.CharField()
    private = serializers.BooleanField()
    defaultBranch = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    cloneUrl = serializers.CharField(allow_blank=True)
    htmlUrl = serializers.CharField(allow_blank=True)
    updatedAt = serializers.CharField(allow_null=True, help_text="GitHub's last push time.")


RepositoryListSerializer = listing("RepositoryListSerializer", "repos", RepositorySerializer)


class BranchSerializer(serializers.Serializer):
    name = serializers.CharField()
    commit = serializers.CharField(allow_blank=True)
    protected = serializers.BooleanField()


class BranchListSerializer(serializers.Serializer):
    repo = serializers.CharField()
    defaultBranch = serializers.CharField()
    branches = BranchSerializer(many=True)


class WebhookResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()
    projects = serializers.IntegerField(required=False, help_text="For a ping: projects found.")
    deployments = serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="The deployments queued."
    )


# --- the deploy wizard's repository look-ups -------------------------------------------------


class RepositoryQuerySerializer(serializers.Serializer):
    """The query of the wizard's repository look-ups."""

    repository = serializers.CharField(max_length=1000)
    branch = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class GitBranchSerializer(serializers.Serializer):
    name = serializers.CharField()
    commit = serializers.CharField()


class RepositoryBranchesSerializer(serializers.Serializer):
    """Serializes ``{"source": RepositorySource, "found": the branches git ls-remote lists}``."""

    repository = serializers.CharField(source="source.repository")
    name = serializers.CharField(source="source.name")
    defaultBranch = serializers.CharField(source="found.default_branch")
    branches = serializers.SerializerMethodField()

    @extend_schema_field(GitBranchSerializer(many=True))
    def get_branches(self, answer) -> list[dict]:
        found = answer["found"]
        return [{"name": name, "commit": found.heads[name]} for name in found.branches]


class RepositoryDetectSerializer(serializers.Serializer):
    """Serializes ``{"source", "branch", "found": the detected framework and commands}``."""

    repository = serializers.CharField(source="source.repository")
    branch = serializers.CharField()
    framework = serializers.CharField(
        source="found.framework", allow_blank=True, help_text="Empty when nothing was recognised."
    )
    installCommand = serializers.CharField(source="found.install_command", allow_blank=True)
    buildCommand = serializers.CharField(source="found.build_command", allow_blank=True)
    outputDir = serializers.CharField(source="found.output_dir")
    note = serializers.CharField(source="found.note", allow_blank=True)
