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


def deployment_filter(queryset, *, search: str = "", status: str = ""):
    """Search by repository (project name, repository, site name); filter by status."""
    search = (search or "").strip()[:200]
    status = (status or "").strip().lower()
    if search:
        queryset = queryset.filter(
            Q(project__name__icontains=search)
            | Q(project__repository__icontains=search)
            | Q(site__name__icontains=search)
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
