"""The Autostack client's deployment, dashboard and GitHub endpoints. Views only translate: the
writes are in deployments.services, the reads in deployments.selectors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.api.exceptions import ApiError, ValidationFailed
from controlpanel.api.pagination import PagePagination
from controlpanel.api.schema import error
from controlpanel.api.throttling import DeploymentCreateThrottle, GeneralRateThrottle
from controlpanel.api.views import validated
from deployments import selectors, services
from deployments.api import serializers
from deployments.filters import FilterError
from deployments.github import GitHubClient, GitHubError, repo_summary
from deployments.models import Deployment, Project
from teams.context import current_team
from teams.permissions import SITE_MANAGE, authorize, authorize_request

NOT_FOUND = error("DEPLOYMENT_NOT_FOUND: no such deployment of yours.")
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("limit", int, description="Items per page (at most 100)."),
]
GITHUB_ERRORS = {
    409: error("GITHUB_NOT_CONNECTED, or GITHUB_TOKEN_INVALID: connect GitHub (again)."),
    502: error("GITHUB_UNAVAILABLE: GitHub did not answer."),
}


def conflict(exc: ValidationError, code: str) -> ApiError:
    return ApiError(409, code, " ".join(exc.messages))


def get_deployment(request, pk, *, bare: bool = False) -> Deployment:
    """A deployment of the caller's teams their role allows this request on (``bare``: only
    it and its site read, see ``selectors.deployment_get``)."""
    try:
        deployment = selectors.deployment_get(user=request.user, pk=pk, bare=bare)
    except (Deployment.DoesNotExist, ValidationError, ValueError):
        raise ApiError(
            404, "DEPLOYMENT_NOT_FOUND", f"Deployment with ID '{pk}' not found"
        ) from None
    authorize_request(request, deployment, SITE_MANAGE)
    return deployment


def detail(request, pk):
    return serializers.DeploymentDetailSerializer(get_deployment(request, pk)).data


class DeploymentListView(GenericAPIView):
    """``GET``: the user's deployments (search, status, page, limit). ``POST``: deploy."""

    pagination_class = PagePagination
    results_key = "deployments"
    throttle_classes = [GeneralRateThrottle, DeploymentCreateThrottle]

    @extend_schema(
        operation_id="deployments_list",
        parameters=[
            OpenApiParameter("search", str, description="Part of the repository or branch."),
            OpenApiParameter(
                "status", str, description="all, success, failed, building, or an exact status."
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: serializers.DeploymentPageSerializer},
        tags=["deployments"],
    )
    def get(self, request):
        try:
            queryset = selectors.deployment_list(
                user=request.user,
                team=current_team(request),
                search=request.query_params.get("search", ""),
                status=request.query_params.get("status", ""),
                summary=True,
            )
        except FilterError as exc:
            raise ValidationFailed(str(exc), {"status": [str(exc)]}) from None
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(
            serializers.DeploymentSummarySerializer(page, many=True).data
        )

    @extend_schema(
        request=serializers.DeploymentCreateSerializer,
        responses={201: serializers.DeploymentDetailSerializer},
        tags=["deployments"],
    )
    def post(self, request):
        team = current_team(request)
        authorize(request.user, SITE_MANAGE, team)
        data = validated(serializers.DeploymentCreateSerializer, request)
        deployment = services.deployment_create(
            team=team,
            user=request.user,
            repository=data["repository"],
            branch=data.get("branch") or "",
            build_command=data.get("build_command"),
            output_dir=data.get("output_dir"),
            env_vars=data.get("env_vars"),
            install_command=data.get("install_command"),
            auto_deploy=data.get("auto_deploy"),
        )
        return Response(detail(request, deployment.pk), status=status.HTTP_201_CREATED)


class DeploymentRecentView(APIView):
    @extend_schema(responses={200: serializers.RecentDeploymentsSerializer}, tags=["deployments"])
    def get(self, request):
        recent = selectors.deployment_recent(
            user=request.user, limit=5, team=current_team(request), summary=True
        )
        return Response(serializers.RecentDeploymentsSerializer({"recentDeployments": recent}).data)


class DeploymentDetailView(APIView):
    @extend_schema(
        operation_id="deployments_retrieve",
        responses={200: serializers.DeploymentDetailSerializer, 404: NOT_FOUND},
        tags=["deployments"],
    )
    def get(self, request, pk):
        return Response(detail(request, pk))

    @extend_schema(
        responses={
            204: None,
            404: NOT_FOUND,
            409: error("DEPLOYMENT_IN_USE: it is live or still running."),
        },
        tags=["deployments"],
    )
    def delete(self, request, pk):
        deployment = get_deployment(request, pk)
        try:
            services.deployment_delete(deployment=deployment)
        except ValidationError as exc:
            raise conflict(exc, "DEPLOYMENT_IN_USE") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogPagination(PagePagination):
    default_limit = 100
    max_limit = 1000


class DeploymentLogsView(GenericAPIView):
    """Stored log lines, oldest first, paginated; ``?after=<seq>`` starts after a line."""

    pagination_class = LogPagination
    results_key = "logs"

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="Only lines after this sequence number."),
            OpenApiParameter(
                "tail", int, description="Only the last N lines (at most 1000), oldest first."
            ),
            OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter("limit", int, description="Lines per page (at most 1000)."),
        ],
        responses={200: serializers.LogPageSerializer, 404: NOT_FOUND},
        tags=["deployments"],
    )
    def get(self, request, pk):
        deployment = get_deployment(request, pk, bare=True)
        try:
            after = int(request.query_params.get("after") or 0)
            tail = int(request.query_params.get("tail") or 0)
        except ValueError:
            raise ValidationFailed(
                "'after' and 'tail' must be numbers.", {"after": ["Not a number."]}
            ) from None
        if tail > 0:
            # The last lines: start after the line ``tail`` before the newest one.
            after = max(after, selectors.log_last_seq(deployment=deployment) - min(tail, 1000))
        page = self.paginate_queryset(selectors.log_lines_page(deployment=deployment, after=after))
        response = self.get_paginated_response(serializers.LogEntrySerializer(page, many=True).data)
        response.data["status"] = deployment.status
        return response


class DeploymentCancelView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: serializers.DeploymentDetailSerializer,
            404: NOT_FOUND,
            409: error("DEPLOYMENT_NOT_CANCELLABLE: it has finished or is being published."),
        },
        tags=["deployments"],
    )
    def post(self, request, pk):
        deployment = get_deployment(request, pk)
        try:
            services.deployment_cancel(deployment=deployment, user=request.user)
        except ValidationError as exc:
            raise conflict(exc, "DEPLOYMENT_NOT_CANCELLABLE") from None
        return Response(detail(request, pk))


class DeploymentRedeployView(APIView):
    throttle_classes = [GeneralRateThrottle, DeploymentCreateThrottle]

    @extend_schema(
        request=None,
        responses={
            201: serializers.DeploymentDetailSerializer,
            404: NOT_FOUND,
            409: error("DEPLOYMENT_NOT_REDEPLOYABLE: only git deployments are built again."),
        },
        tags=["deployments"],
    )
    def post(self, request, pk):
        deployment = get_deployment(request, pk)
        try:
            new = services.deployment_redeploy(deployment=deployment, author=request.user)
        except ValidationError as exc:
            raise conflict(exc, "DEPLOYMENT_NOT_REDEPLOYABLE") from None
        return Response(detail(request, new.pk), status=status.HTTP_201_CREATED)


class DashboardStatsView(APIView):
    @extend_schema(responses={200: serializers.DashboardSerializer}, tags=["dashboard"])
    def get(self, request):
        team = current_team(request)
        dashboard = {
            "stats": selectors.dashboard_stats(user=request.user, team=team),
            "recentDeployments": selectors.deployment_recent(
                user=request.user, limit=5, team=team, summary=True
            ),
            "githubConnected": selectors.github_connected(user=request.user),
        }
        return Response(serializers.DashboardSerializer(dashboard).data)


# --- Repositories and projects -----------------------------------------------------------


def _source(request):
    """The repository named by ``?repository=`` (a git URL or a GitHub repository's name)."""
    query = serializers.RepositoryQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    source = selectors.repository_resolve(
        user=request.user, repository=query.validated_data["repository"]
    )
    return source, query.validated_data.get("branch", "")


class RepositoryBranchesView(APIView):
    """``GET ?repository=<git URL or GitHub name>``: its branches (``git ls-remote``), the
    default branch (what HEAD points at) first."""

    @extend_schema(
        parameters=[serializers.RepositoryQuerySerializer],
        responses={200: serializers.RepositoryBranchesSerializer},
        tags=["deployments"],
    )
    def get(self, request):
        source, _ = _source(request)
        found = selectors.repository_branches(user=request.user, source=source)
        answer = {"source": source, "found": found}
        return Response(serializers.RepositoryBranchesSerializer(answer).data)


class RepositoryDetectView(APIView):
    """``GET ?repository=...&branch=...``: the framework of the branch (the default branch when
    none is given) and the install command, build command and output directory it implies."""

    @extend_schema(
        parameters=[serializers.RepositoryQuerySerializer],
        responses={200: serializers.RepositoryDetectSerializer},
        tags=["deployments"],
    )
    def get(self, request):
        source, branch = _source(request)
        branch = selectors.branch_verify(user=request.user, source=source, branch=branch)
        found = selectors.repository_detect(user=request.user, source=source, branch=branch)
        answer = {"source": source, "branch": branch, "found": found}
        return Response(serializers.RepositoryDetectSerializer(answer).data)


PROJECT_NOT_FOUND = error("PROJECT_NOT_FOUND: no such project, or the site is not built from git.")


def get_project(request, pk) -> Project:
    """A project of the caller's teams their role allows this request on."""
    try:
        project = selectors.project_get(user=request.user, pk=pk)
    except (Project.DoesNotExist, ValidationError, ValueError):
        raise ApiError(404, "PROJECT_NOT_FOUND", f"Project with ID '{pk}' not found") from None
    authorize_request(request, project, SITE_MANAGE)
    return project


class ProjectDeployLatestView(APIView):
    """``POST``: build the head of the project's configured branch (“Deploy latest”)."""

    throttle_classes = [GeneralRateThrottle, DeploymentCreateThrottle]

    @extend_schema(
        request=None,
        responses={201: serializers.DeploymentDetailSerializer, 404: PROJECT_NOT_FOUND},
        tags=["deployments"],
    )
    def post(self, request, pk):
        project = get_project(request, pk)
        new = services.deployment_deploy_latest(project=project, author=request.user)
        return Response(detail(request, new.pk), status=status.HTTP_201_CREATED)


class SiteDeployLatestView(ProjectDeployLatestView):
    """``POST /api/sites/<id>/deploy-latest``: the same for the site a repository builds."""

    @extend_schema(
        request=None,
        responses={201: serializers.DeploymentDetailSerializer, 404: PROJECT_NOT_FOUND},
        tags=["deployments"],
    )
    def post(self, request, pk):
        project = selectors.project_list(user=request.user).filter(site_id=pk).first()
        if project is None:
            raise ApiError(404, "PROJECT_NOT_FOUND", "This site is not built from a repository.")
        return super().post(request, project.pk)


class ProjectCacheClearView(APIView):
    """``POST``: delete the project's dependency cache (download caches and cached installs);
    the next build installs from scratch."""

    @extend_schema(
        request=None,
        responses={200: serializers.ProjectCacheClearedSerializer, 404: PROJECT_NOT_FOUND},
        tags=["deployments"],
    )
    def post(self, request, pk):
        project = get_project(request, pk)
        freed = services.project_cache_clear(project=project)
        answer = {"freed": freed, "cache": selectors.project_cache_usage(project=project)}
        return Response(serializers.ProjectCacheClearedSerializer(answer).data)


# --- GitHub ------------------------------------------------------------------------------


def connection_state(request, **extra) -> dict:
    """What the GitHub connection serializers read."""
    return {
        "connection": selectors.github_connection(user=request.user),
        "configured": services.github_configured(),
        **extra,
    }


def require_connection(request):
    connection = selectors.github_connection(user=request.user)
    if connection is None:
        raise ApiError(409, "GITHUB_NOT_CONNECTED", "Connect GitHub first.")
    return connection


def github_error(exc: GitHubError) -> ApiError:
    status_code = {401: 409, 404: 404, 429: 429}.get(exc.status, 502)
    code = {401: "GITHUB_TOKEN_INVALID", 404: "NOT_FOUND", 429: "RATE_LIMIT_EXCEEDED"}.get(
        exc.status, "GITHUB_UNAVAILABLE"
    )
    return ApiError(status_code, code, str(exc))


class GitHubConnectionView(APIView):
    @extend_schema(responses={200: serializers.GitHubConnectionSerializer}, tags=["github"])
    def get(self, request):
        return Response(serializers.GitHubConnectionSerializer(connection_state(request)).data)


class GitHubConnectView(APIView):
    """Answers where to send the browser to authorise Berth on GitHub."""

    @extend_schema(
        request=None,
        responses={
            200: serializers.GitHubAuthorizeSerializer,
            409: error("GITHUB_NOT_CONFIGURED: this server has no GitHub OAuth app."),
        },
        tags=["github"],
    )
    def post(self, request):
        if not services.github_configured():
            raise ApiError(
                409,
                "GITHUB_NOT_CONFIGURED",
                "GitHub sign-in is not configured on this server (GITHUB_CLIENT_ID/SECRET).",
            )
        next_url = str(request.data.get("next") or "/deploy/") if hasattr(request, "data") else ""
        url = services.github_authorize_url(
            request._request, next_url=next_url, browser=request.auth is None
        )
        state = connection_state(request, authorizeUrl=url)
        return Response(serializers.GitHubAuthorizeSerializer(state).data)


class GitHubDisconnectView(APIView):
    @extend_schema(
        request=None, responses={200: serializers.GitHubDisconnectedSerializer}, tags=["github"]
    )
    def delete(self, request):
        was = services.github_disconnect(user=request.user, request=request._request)
        message = "GitHub disconnected." if was else "GitHub was not connected."
        state = connection_state(request, message=message)
        return Response(serializers.GitHubDisconnectedSerializer(state).data)

    post = delete


class GitHubReposView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("refresh", str, description="1 skips the 5-minute cache.")],
        responses={200: serializers.RepositoryListSerializer, **GITHUB_ERRORS},
        tags=["github"],
    )
    def get(self, request):
        connection = require_connection(request)
        try:
            repos = services.github_repos(
                connection=connection, refresh=request.query_params.get("refresh") == "1"
            )
        except GitHubError as exc:
            raise github_error(exc) from None
        summaries = [repo_summary(r) for r in repos]
        return Response(serializers.RepositoryListSerializer({"repos": summaries}).data)


class GitHubBranchesView(APIView):
    @extend_schema(
        responses={200: serializers.BranchListSerializer, **GITHUB_ERRORS}, tags=["github"]
    )
    def get(self, request, repo):
        connection = require_connection(request)
        try:
            found = services.github_repo_find(connection=connection, name=repo)
            if found is None:
                raise ApiError(404, "NOT_FOUND", f"“{repo}” is not among your repositories.")
            branches = GitHubClient(connection.access_token).branches(found["full_name"])
        except GitHubError as exc:
            raise github_error(exc) from None
        listing = {
            "repo": found["full_name"],
            "defaultBranch": found.get("default_branch") or "main",
            "branches": [
                {
                    "name": b.get("name"),
                    "commit": (b.get("commit") or {}).get("sha", ""),
                    "protected": bool(b.get("protected")),
                }
                for b in branches
            ],
        }
        return Response(serializers.BranchListSerializer(listing).data)


@method_decorator(csrf_exempt, name="dispatch")
class GitHubWebhookView(APIView):
    """GitHub push webhooks, verified by ``X-Hub-Signature-256`` (HMAC-SHA256)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=None,
        responses={
            200: serializers.WebhookResultSerializer,
            202: serializers.WebhookResultSerializer,
            401: error("INVALID_SIGNATURE: the signature does not match any project's secret."),
            402: error("PLAN_LIMIT_EXCEEDED: the team has used its plan's build minutes."),
        },
        tags=["github"],
    )
    def post(self, request):
        try:
            result = services.webhook_push_receive(
                body=request.body,
                signature=request.headers.get("X-Hub-Signature-256", ""),
                event=request.headers.get("X-GitHub-Event", ""),
            )
        except PermissionError as exc:
            raise ApiError(401, "INVALID_SIGNATURE", str(exc)) from None
        code = status.HTTP_202_ACCEPTED if result.get("deployments") else status.HTTP_200_OK
        return Response(serializers.WebhookResultSerializer(result).data, status=code)
