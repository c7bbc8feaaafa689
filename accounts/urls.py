from django.urls import path

from accounts import views

urlpatterns = [
    path("settings/", views.settings_index, name="settings"),
    path("settings/tokens/<uuid:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("settings/sessions/<uuid:pk>/revoke/", views.session_revoke, name="session-revoke"),
    path("settings/sessions/end-all/", views.sign_out_everywhere, name="sign-out-everywhere"),
    path("settings/account/delete/", views.account_delete, name="account-delete"),
    path("settings/email/", views.email_change, name="email-change"),
    path(
        "settings/email/confirm/<str:key>/",
        views.email_change_confirm,
        name="email-change-confirm",
    ),
    path("settings/<slug:tab>/", views.settings_tab, name="settings-tab"),
]
