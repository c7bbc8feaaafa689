"""One filter for the deployments list, used by the HTML page and the API alike."""

from __future__ import annotations

from django.db.models import Q

from deployments.models import Deployment

# The Autostack client's status filter: all, success, failed, building ("in progress"); exact
# values too.
STATUS_GROUPS = {
    "all": None,
    "": None,
    "building": [
        Deployment.Status.UPLOADING,
        Deployment.Status.QUEUED,
        Deployment.Status.BUILDING,
        Deployment.Status.DEPLOYING,
    ],
}
STATUS_CHOICES = [
    ("all", "All statuses"),
    ("success", "Success"),
    ("failed", "Failed"),
    ("building", "Building"),
    ("cancelled", "Cancelled"),
]


class FilterError(ValueError):
    pass


def deployment_filter(queryset, *, search: str = "", status: str = "", sites, projects):
    """Search by repository (project name, repository, site name), branch or commit; filter
    by status. ``sites`` and ``projects`` are the ones the list is scoped to: the matching
    ones are looked up first (a few hundred rows at most), so the search on the deployments
    themselves is a union of index lookups (site, project, and the trigram indexes on branch
    and commit) rather than a scan of every deployment joined to its site and project."""
    search = (search or "").strip()[:200]
    status = (status or "").strip().lower()
    if search:
        site_ids = list(sites.filter(name__icontains=search).values_list("pk", flat=True))
        project_ids = list(
            projects.filter(
                Q(name__icontains=search) | Q(repository__icontains=search)
            ).values_list("pk", flat=True)
        )
        queryset = queryset.filter(
            Q(site_id__in=site_ids)
            | Q(project_id__in=project_ids)
            | Q(branch__icontains=search)
            | Q(commit_hash__istartswith=search)
        )
    if status in STATUS_GROUPS:
        statuses = STATUS_GROUPS[status]
        if statuses:
            queryset = queryset.filter(status__in=statuses)
    elif status in Deployment.Status.values:
        queryset = queryset.filter(status=status)
    else:
        raise FilterError(f"Unknown status “{status}”.")
    return queryset
