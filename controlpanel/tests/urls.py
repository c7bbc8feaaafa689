"""The real URLs plus views that fail on purpose, for the error-envelope tests."""

from django.urls import path
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.urls import urlpatterns as real_patterns


class OperatorsOnly(APIView):
    permission_classes = [IsAdminUser]

    def get(self, request):
        return Response({"ok": True})


class Broken(APIView):
    def get(self, request):
        raise RuntimeError("boom")


def broken_page(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/test/operators-only", OperatorsOnly.as_view()),
    path("api/test/broken", Broken.as_view()),
    path("test/broken", broken_page),
    *real_patterns,
]

handler400 = "controlpanel.views.bad_request"
handler403 = "controlpanel.views.permission_denied"
handler404 = "controlpanel.views.page_not_found"
handler500 = "controlpanel.views.server_error"
