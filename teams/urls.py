"""HTML pages of the teams app (mounted at the site root, namespace "teams")."""

from django.urls import path

from teams import views

app_name = "teams"
urlpatterns = [
    path("teams/", views.team_list, name="list"),
    path("teams/switch/", views.team_switch, name="switch"),
    path("teams/<uuid:pk>/", views.team_detail, name="detail"),
    path("teams/<uuid:pk>/settings/", views.team_settings, name="settings"),
    path("teams/<uuid:pk>/invitations/", views.invitation_create, name="invite"),
    path(
        "teams/<uuid:pk>/invitations/<uuid:invitation_pk>/resend/",
        views.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "teams/<uuid:pk>/invitations/<uuid:invitation_pk>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("teams/<uuid:pk>/members/<uuid:user_pk>/role/", views.member_role, name="member-role"),
    path(
        "teams/<uuid:pk>/members/<uuid:user_pk>/remove/", views.member_remove, name="member-remove"
    ),
    path("teams/<uuid:pk>/leave/", views.team_leave, name="leave"),
    path("teams/<uuid:pk>/transfer/", views.team_transfer, name="transfer"),
    path("teams/<uuid:pk>/delete/", views.team_delete, name="delete"),
    path("teams/<uuid:pk>/audit/", views.audit_log, name="audit"),
    path("invitations/<str:key>/", views.invitation, name="invitation"),
]
