from django.urls import path

from deployments.consumers import DeploymentLogConsumer

websocket_urlpatterns = [
    path("api/deployments/<uuid:pk>/logs/stream", DeploymentLogConsumer.as_asgi()),
]
