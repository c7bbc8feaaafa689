"""The site page's Backups tab: the list of runs (live progress of a running one, checks and
restore drills beside each), restores, "Back up now", the schedule with its retention rules,
and restore — into the same site, a new one or another of the team's (after a confirmation).
The site is looked up among the user's teams; changes need ``site.manage``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from backups import downloads, selectors, services
from backups.forms import RestoreElsewhereForm, ScheduleForm
from backups.models import Backup
from hosting.views import render_tab, site_or_404
from teams.permissions import SITE_MANAGE, authorize, can


def _backup_or_404(site, backup_pk) -> Backup:
    """One of the site's backups; another site's (or team's) is simply not found."""
    try:
        return selectors.backup_get(site=site, pk=backup_pk)
    except Backup.DoesNotExist as exc:
        raise Http404("No such backup.") from exc


@login_required
def site_backups(request, pk):
    site = site_or_404(request, pk)
    page = Paginator(selectors.backups_of_site(site=site), 20).get_page(request.GET.get("page"))
    schedule = selectors.schedule_of(site=site)
    initial = {"frequency": "off"}
    if schedule is not None:
        initial = {
            field: getattr(schedule, field)
            for field in ("frequency", "hour", "weekday", *selectors.KEEP_FIELDS)
        }
    context = {
        "schedule": schedule,
        "schedule_form": ScheduleForm(initial=initial),
        "restore_targets": list(selectors.restore_targets(site=site)),
        "page": page,
        "restores": selectors.restores_of_site(site=site)[:5],
        "last_drill": selectors.drills_of_site(site=site).first(),
        "can_manage": can(request.user, SITE_MANAGE, site),
        "under_way": any(b.state not in Backup.FINAL_STATES for b in page),
        "storage": selectors.backup_storage_of(team=site.team),
    }
    return render_tab(request, site, "backups", context, template="backups/site_backups.html")


@login_required
@require_POST
def backup_now(request, pk):
    site = site_or_404(request, pk)
    services.backup_create(site=site, user=request.user)
    messages.success(request, "Backup queued: it runs, is checked, and its state shows below.")
    return redirect("backups:site-backups", pk=site.pk)


@login_required
@require_POST
def backup_restore(request, pk, backup_pk):
    site = site_or_404(request, pk)
    backup = _backup_or_404(site, backup_pk)
    try:
        services.restore_create(backup=backup, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            "Restore queued: the site's current state is backed up first, then this backup "
            "is put back.",
        )
    return redirect("backups:site-backups", pk=site.pk)


@login_required
@require_POST
def backup_restore_elsewhere(request, pk, backup_pk):
    site = site_or_404(request, pk)
    backup = _backup_or_404(site, backup_pk)
    form = RestoreElsewhereForm(request.POST, sites=selectors.restore_targets(site=site))
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or "Choose a site.")
        return redirect("backups:site-backups", pk=site.pk)
    target = None
    if form.cleaned_data["target"]:
        target = selectors.restore_targets(site=site).get(pk=form.cleaned_data["target"])
    try:
        job = services.restore_create(
            backup=backup,
            user=request.user,
            new_site_name=form.cleaned_data["new_site_name"],
            target=target,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("backups:site-backups", pk=site.pk)
    messages.success(request, f"Restore into {job.site.name} queued.")
    return redirect("backups:site-backups", pk=job.site.pk)


@login_required
@require_POST
def schedule_set(request, pk):
    site = site_or_404(request, pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Choose a frequency, an hour and a day from the lists, and whole numbers to keep.",
        )
        return redirect("backups:site-backups", pk=site.pk)
    try:
        data = {k: v for k, v in form.cleaned_data.items() if v is not None}
        schedule = services.schedule_set(site=site, user=request.user, **data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if schedule is None:
            messages.success(request, "Scheduled backups are off for this site.")
        else:
            when = schedule.next_run_at.strftime("%d %b %Y, %H:%M UTC")
            messages.success(request, f"Scheduled backups saved; the next runs {when}.")
    return redirect("backups:site-backups", pk=site.pk)


@login_required
def backup_download(request, pk, backup_pk):
    """The backup as a ``.tar.gz``, streamed (it may hold a database: ``site.manage`` only)."""
    site = site_or_404(request, pk)
    authorize(request.user, SITE_MANAGE, site)
    backup = _backup_or_404(site, backup_pk)
    try:
        archive = downloads.backup_archive(backup=backup, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except downloads.DownloadUnavailable as exc:
        messages.error(request, f"The backup repository could not be read: {exc}")
    else:
        return downloads.archive_response(archive, request)
    return redirect("backups:site-backups", pk=site.pk)


@login_required
@require_POST
def backup_delete(request, pk, backup_pk):
    site = site_or_404(request, pk)
    backup = _backup_or_404(site, backup_pk)
    try:
        services.backup_delete(backup=backup, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Backup deleted; its snapshot is removed from the repository.")
    return redirect("backups:site-backups", pk=site.pk)
