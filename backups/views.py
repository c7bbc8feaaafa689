"""The site page's Backups tab: the list of runs and restores, "Back up now", and restore
(after a confirmation). The site is looked up among the user's teams; changes need
``site.manage``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from backups import downloads, selectors, services
from backups.forms import ScheduleForm
from backups.models import Backup
from hosting.views import render_tab, site_or_404
from teams.permissions import SITE_MANAGE, authorize, can


@login_required
def site_backups(request, pk):
    site = site_or_404(request, pk)
    page = Paginator(selectors.backups_of_site(site=site), 20).get_page(request.GET.get("page"))
    schedule = selectors.schedule_of(site=site)
    initial = {"frequency": "off"}
    if schedule is not None:
        initial = {
            "frequency": schedule.frequency,
            "hour": schedule.hour,
            "weekday": schedule.weekday,
        }
    context = {
        "schedule": schedule,
        "schedule_form": ScheduleForm(initial=initial),
        "page": page,
        "restores": selectors.restores_of_site(site=site)[:5],
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
    try:
        backup = selectors.backup_get(site=site, pk=backup_pk)
    except Backup.DoesNotExist as exc:
        raise Http404("No such backup.") from exc
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
def schedule_set(request, pk):
    site = site_or_404(request, pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a frequency, an hour and a day from the lists.")
        return redirect("backups:site-backups", pk=site.pk)
    try:
        schedule = services.schedule_set(site=site, user=request.user, **form.cleaned_data)
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
    try:
        backup = selectors.backup_get(site=site, pk=backup_pk)
    except Backup.DoesNotExist as exc:
        raise Http404("No such backup.") from exc
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
    try:
        backup = selectors.backup_get(site=site, pk=backup_pk)
    except Backup.DoesNotExist as exc:
        raise Http404("No such backup.") from exc
    try:
        services.backup_delete(backup=backup, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Backup deleted; its snapshot is removed from the repository.")
    return redirect("backups:site-backups", pk=site.pk)
