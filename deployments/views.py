"""HTML pages: the deploy wizard, the deployments list, a deployment with its live log, a
project's settings, and connecting GitHub. Writes go through deployments.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from controlpanel.api.throttling import DeploymentCreateThrottle
from controlpanel.forms import errors_to_form
from deployments import selectors, services
from deployments.api.serializers import DeploymentDetailSerializer, ProjectSerializer
from deployments.filters import FilterError
from deployments.forms import DeployForm, DeploymentFilterForm, ProjectForm
from deployments.github import GitHubError, repo_summary
from deployments.models import Deployment, Project
from teams.context import current_team
from teams.permissions import SITE_MANAGE, authorize, authorize_request


def _deployment(request, pk) -> Deployment:
    """A deployment of one of the user's teams, if their role allows this request."""
    try:
        deployment = selectors.deployment_get(user=request.user, pk=pk)
    except Deployment.DoesNotExist:
        raise Http404("No such deployment.") from None
    authorize_request(request, deployment, SITE_MANAGE)
    return deployment


@login_required
def deploy(request):
    """The Autostack three-step deploy wizard. JavaScript shows one step at a time; without it the
    steps are one form."""
    team = current_team(request)
    authorize(request.user, SITE_MANAGE, team)
    connection = selectors.github_connection(user=request.user)
    repos, repos_error = [], ""
    if connection is not None:
        try:
            repos = [repo_summary(r) for r in services.github_repos(connection=connection)]
        except GitHubError as exc:
            repos_error = str(exc)
    form = DeployForm(initial={"repository": request.GET.get("repository", "")})
    if request.method == "POST":
        form = DeployForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                deployment = services.deployment_create(
                    team=team,
                    user=request.user,
                    repository=data["repository"],
                    branch=data["branch"],
                    install_command=data["install_command"],
                    build_command=data["build_command"],
                    output_dir=data["output_dir"],
                    env_vars=data["env_vars"],
                    auto_deploy=data["auto_deploy"],
                )
            except ValidationError as exc:
                # The site is named after the repository: its errors belong to that field.
                errors_to_form(form, exc, {"name": "repository", "slug": "repository"})
            else:
                messages.success(request, f"Deployment of {deployment.repo_name} started.")
                return redirect("deployments:detail", pk=deployment.pk)
    context = {
        "form": form,
        "github_connection": connection,
        "github_configured": services.github_configured(),
        "repos": repos,
        "repos_error": repos_error,
    }
    return render(request, "deployments/deploy.html", context, status=422 if form.errors else 200)


@login_required
def deployment_list(request):
    filters = DeploymentFilterForm(request.GET or None)
    search = status = ""
    if filters.is_valid():
        search, status = filters.cleaned_data["search"], filters.cleaned_data["status"]
    team = current_team(request)
    try:
        queryset = selectors.deployment_list(
            user=request.user, search=search, status=status, team=team
        )
    except FilterError:
        queryset = selectors.deployment_list(user=request.user, search=search, team=team)
    page = Paginator(queryset, 10).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "filtered": bool(search or status not in ("", "all")),
        "skeleton_rows": range(5),
    }
    return render(request, "deployments/list.html", context)


@login_required
def deployment_detail_page(request, pk):
    deployment = _deployment(request, pk)
    data = DeploymentDetailSerializer(deployment).data
    lines = selectors.log_tail(deployment=deployment, count=200)
    context = {
        "deployment": deployment,
        "data": data,
        "lines": lines,
        "last_seq": lines[-1].seq if lines else 0,
        "truncated": bool(lines) and lines[0].seq > 1,
    }
    return render(request, "deployments/detail.html", context)


@login_required
def deployment_log_text(request, pk):
    """The whole log as plain text (a download), streamed."""
    deployment = _deployment(request, pk)

    def lines():
        for line in selectors.log_lines(deployment=deployment).iterator(chunk_size=2000):
            stamp = line.timestamp.strftime("%Y-%m-%d %H:%M:%S")
            yield f"{stamp} [{line.level}] {line.message}\n"

    response = StreamingHttpResponse(lines(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="deployment-{deployment.pk}.log"'
    return response


@login_required
@require_POST
def deployment_cancel(request, pk):
    deployment = _deployment(request, pk)
    try:
        services.deployment_cancel(deployment=deployment, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Deployment cancelled.")
    return redirect("deployments:detail", pk=pk)


@login_required
@require_POST
def deployment_redeploy(request, pk):
    deployment = _deployment(request, pk)
    try:
        new = services.deployment_redeploy(deployment=deployment, author=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("deployments:detail", pk=pk)
    if new.redeploy_of_id:
        message = f"Rebuilding {deployment.short_commit} with the project's current settings."
    else:
        message = f"Deploying the latest commit of {new.branch}."
    messages.success(request, message)
    return redirect("deployments:detail", pk=new.pk)


@login_required
@require_POST
def deployment_delete(request, pk):
    deployment = _deployment(request, pk)
    try:
        services.deployment_delete(deployment=deployment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("deployments:detail", pk=pk)
    messages.success(request, "Deployment deleted.")
    return redirect("deployments:list")


def _project(request, pk) -> Project:
    """A project of one of the user's teams, if their role allows this request."""
    try:
        project = selectors.project_get(user=request.user, pk=pk)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None
    authorize_request(request, project, SITE_MANAGE)
    return project


@login_required
@require_POST
def project_deploy_latest(request, pk):
    """“Deploy latest”: build the head of the project's branch (project page and site page)."""
    project = _project(request, pk)
    if not DeploymentCreateThrottle().allow_request(request, None):
        messages.error(request, "Too many deployments in the last hour; try again later.")
        return redirect(_next(request, default=reverse("deployments:project", args=[pk])))
    try:
        deployment = services.deployment_deploy_latest(project=project, author=request.user)
    except ValidationError as exc:  # the team's plan: build minutes used up, or suspended
        messages.error(request, exc.messages[0])
        return redirect(_next(request, default=reverse("deployments:project", args=[pk])))
    messages.success(request, f"Deploying the latest commit of {project.branch}.")
    return redirect("deployments:detail", pk=deployment.pk)


@login_required
@require_POST
def project_cache_clear(request, pk):
    """Empty the project's dependency cache (the page asks for confirmation first)."""
    project = _project(request, pk)
    freed = services.project_cache_clear(project=project)
    messages.success(
        request,
        f"Dependency cache cleared ({filesizeformat(freed)} freed). The next build installs "
        "its dependencies from scratch.",
    )
    return redirect("deployments:project", pk=project.pk)


def settings_saved_message(project: Project) -> str:
    return (
        "Build settings saved. They apply to the next deploy: “Deploy latest” builds the head "
        f"of {project.branch} with them, and “Redeploy” rebuilds a deployment's commit with "
        "them. The live deployment keeps serving what it was built with."
    )


@login_required
def project_settings(request, pk):
    project = _project(request, pk)
    form = ProjectForm(
        initial={
            "branch": project.branch,
            "install_command": project.install_command,
            "build_command": project.build_command,
            "output_dir": project.output_dir,
            "auto_deploy": project.auto_deploy,
            "preview_branches": project.preview_branches,
        }
    )
    if request.method == "POST":
        form = ProjectForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            env = "" if data["clear_env_vars"] else (data["env_vars"] or None)
            try:
                services.project_update(
                    project=project,
                    branch=data["branch"],
                    install_command=data["install_command"],
                    build_command=data["build_command"],
                    output_dir=data["output_dir"],
                    auto_deploy=data["auto_deploy"],
                    env_vars=env,
                    preview_branches=data["preview_branches"],
                    preview_env_vars=""
                    if data["clear_preview_env_vars"]
                    else (data["preview_env_vars"] or None),
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, settings_saved_message(project))
                return redirect("deployments:project", pk=project.pk)
    context = {
        "project": project,
        "data": ProjectSerializer(project).data,
        "form": form,
        "webhook_url": request.build_absolute_uri(reverse("api-github-webhook")),
        "recent": selectors.deployment_list(user=request.user).filter(project=project)[:5],
        "last": selectors.project_last_deployment(project=project),
        "cache": selectors.project_cache_usage(project=project),
    }
    return render(request, "deployments/project.html", context, status=422 if form.errors else 200)


def _next(request, default: str = "/deploy/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return default
    return target


@login_required
def github_connect(request):
    """Start GitHub's OAuth "connect" flow (POST, so another site cannot start it)."""
    if not services.github_configured():
        messages.error(request, "GitHub is not configured on this server.")
        return redirect("settings-tab", tab="github")
    if request.method == "POST":
        return redirect(services.github_authorize_url(request, next_url=_next(request)))
    return render(request, "deployments/github_connect.html", {"next": _next(request)})


@login_required
@require_POST
def github_disconnect(request):
    if services.github_disconnect(user=request.user, request=request):
        messages.success(request, "GitHub disconnected. Its token has been deleted.")
    return redirect(_next(request, default=reverse("settings-tab", args=["github"])))
