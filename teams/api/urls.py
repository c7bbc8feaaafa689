"""REST endpoints of the teams app (mounted under /api/)."""

from django.urls import path

from teams.api import views

urlpatterns = [
    path("teams", views.TeamListView.as_view(), name="api-teams"),
    path("teams/<uuid:pk>", views.TeamDetailView.as_view(), name="api-team"),
    path("teams/<uuid:pk>/switch", views.TeamSwitchView.as_view(), name="api-team-switch"),
    path("teams/<uuid:pk>/leave", views.TeamLeaveView.as_view(), name="api-team-leave"),
    path("teams/<uuid:pk>/transfer", views.TeamTransferView.as_view(), name="api-team-transfer"),
    path("teams/<uuid:pk>/members", views.MemberListView.as_view(), name="api-team-members"),
    path(
        "teams/<uuid:pk>/members/<uuid:user_pk>",
        views.MemberDetailView.as_view(),
        name="api-team-member",
    ),
    path(
        "teams/<uuid:pk>/invitations",
        views.InvitationListView.as_view(),
        name="api-team-invitations",
    ),
    path(
        "teams/<uuid:pk>/invitations/<uuid:invitation_pk>",
        views.InvitationDetailView.as_view(),
        name="api-team-invitation",
    ),
    path(
        "teams/<uuid:pk>/invitations/<uuid:invitation_pk>/resend",
        views.InvitationResendView.as_view(),
        name="api-team-invitation-resend",
    ),
    path("teams/<uuid:pk>/audit", views.AuditLogView.as_view(), name="api-team-audit"),
    path("invitations/<str:key>", views.ReceivedInvitationView.as_view(), name="api-invitation"),
    path(
        "invitations/<str:key>/accept",
        views.InvitationAcceptView.as_view(),
        name="api-invitation-accept",
    ),
    path(
        "invitations/<str:key>/decline",
        views.InvitationDeclineView.as_view(),
        name="api-invitation-decline",
    ),
]
