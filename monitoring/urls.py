from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("status", views.status, name="status"),
    path("status/badge/<slug:slug>.svg", views.badge, name="badge"),
    path("status/subscribe", views.subscribe, name="subscribe"),
    path("status/subscribe/<str:token>", views.subscribe_confirm, name="subscribe-confirm"),
    path("status/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("operations/", views.operations, name="operations"),
    path("operations/incidents", views.incident_create, name="incident-create"),
    path("operations/incidents/<int:pk>", views.incident_update, name="incident-update"),
    path("operations/processes/<slug:name>/restart", views.process_restart, name="restart"),
]
