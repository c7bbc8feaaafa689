from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ControlPanelConfig(AppConfig):
    name = "controlpanel"
    verbose_name = "Berth"


class BerthAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with the site that puts operators' changes in the audit log."""

    default = False  # named in INSTALLED_APPS; "controlpanel" stays ControlPanelConfig
    default_site = "teams.admin_audit.AuditedAdminSite"
