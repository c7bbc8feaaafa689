from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/signup", views.SignupView.as_view(), name="api-signup"),
    path("auth/register", views.SignupView.as_view(), name="api-register"),
    path("auth/login", views.LoginView.as_view(), name="api-login"),
    path("v1/auth/login", views.OAuth2LoginView.as_view(), name="api-v1-login"),
    path("auth/logout", views.LogoutView.as_view(), name="api-logout"),
    path("auth/session", views.SessionView.as_view(), name="api-session"),
    path("auth/refresh", views.RefreshView.as_view(), name="api-refresh"),
    path("auth/forgot-password", views.ForgotPasswordView.as_view(), name="api-forgot-password"),
    path("auth/reset-password", views.ResetPasswordView.as_view(), name="api-reset-password"),
    path("user/profile", views.ProfileView.as_view(), name="api-profile"),
    path("user/preferences", views.PreferencesView.as_view(), name="api-preferences"),
    path("user/account", views.AccountView.as_view(), name="api-account"),
    path("user/email", views.EmailChangeView.as_view(), name="api-email-change"),
    path("user/email/confirm", views.EmailConfirmView.as_view(), name="api-email-confirm"),
    path("user/tokens", views.TokenListView.as_view(), name="api-tokens"),
    path("user/tokens/<uuid:pk>", views.TokenDetailView.as_view(), name="api-token"),
    path("user/sessions", views.SessionListView.as_view(), name="api-sessions"),
    path("user/sessions/<uuid:pk>", views.SessionDetailView.as_view(), name="api-session-detail"),
    path("security/logs", views.SecurityLogView.as_view(), name="api-security-logs"),
]
