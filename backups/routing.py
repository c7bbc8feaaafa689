from django.urls import path

from backups.consumers import BackupProgressConsumer

websocket_urlpatterns = [
    path("api/backups/<uuid:pk>/stream", BackupProgressConsumer.as_asgi()),
]
