from django.urls import path

from monitoring.consumers import StatusStreamConsumer

websocket_urlpatterns = [
    path("api/status/stream", StatusStreamConsumer.as_asgi()),
]
