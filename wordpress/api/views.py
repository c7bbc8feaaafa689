"""WordPress over the REST API: ``GET /api/sites/<id>/wordpress`` and the start and stop
actions. Creation is ``POST /api/sites/create`` with ``kind: wordpress`` (hosting.api), and
``DELETE /api/sites/<id>`` removes everything."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.api.exceptions import ApiError
from controlpanel.api.schema import error
from hosting.api.views import SiteMixin
from hosting.models import Site
from wordpress import selectors, services
from wordpress.api.serializers import LoginLinkSerializer, WordPressSerializer
from wordpress.pools import PoolError

NOT_FOUND = error("SITE_NOT_FOUND: no such WordPress site of yours.")


class WordPressMixin(SiteMixin):
    def wordpress_site(self, request, pk) -> Site:
        site = self.site(request, pk)
        if site.kind != Site.Kind.WORDPRESS:
            raise ApiError(404, "SITE_NOT_FOUND", "No WordPress site with that id.")
        return site

    def detail_json(self, site: Site) -> dict:
        detail = selectors.wordpress_detail(site=site)
        if detail is None:
            raise ApiError(404, "SITE_NOT_FOUND", "No WordPress site with that id.")
        return WordPressSerializer(detail).data


class WordPressView(WordPressMixin, APIView):
    @extend_schema(
        operation_id="sites_wordpress",
        responses={200: WordPressSerializer, 404: NOT_FOUND},
        tags=["sites"],
    )
    def get(self, request, pk):
        return Response(self.detail_json(self.wordpress_site(request, pk)))


class WordPressActionView(WordPressMixin, APIView):
    action = ""

    @extend_schema(
        request=None,
        responses={
            200: WordPressSerializer,
            404: NOT_FOUND,
            409: error("NOT_INSTALLED: provisioning has not finished."),
            502: error("POOL_FAILED: the PHP pool did not start or stop."),
        },
        tags=["sites"],
    )
    def post(self, request, pk):
        site = self.wordpress_site(request, pk)
        action = services.wordpress_start if self.action == "start" else services.wordpress_stop
        try:
            action(site=site)
        except ValidationError as exc:
            raise ApiError(409, "NOT_INSTALLED", exc.messages[0]) from exc
        except PoolError as exc:
            raise ApiError(502, "POOL_FAILED", str(exc)) from exc
        site.refresh_from_db()
        return Response(self.detail_json(site))


@extend_schema_view(post=extend_schema(operation_id="sites_wordpress_start"))
class WordPressStartView(WordPressActionView):
    """``POST /api/sites/<id>/wordpress/start``: start the PHP pool and serve the site."""

    action = "start"


@extend_schema_view(post=extend_schema(operation_id="sites_wordpress_stop"))
class WordPressStopView(WordPressActionView):
    """``POST /api/sites/<id>/wordpress/stop``: stop the PHP pool (visitors get 503)."""

    action = "stop"


class WordPressLoginView(WordPressMixin, APIView):
    """``POST /api/sites/<id>/wordpress/login``: a one-time link into wp-admin."""

    @extend_schema(
        operation_id="sites_wordpress_login",
        request=None,
        responses={
            200: LoginLinkSerializer,
            404: NOT_FOUND,
            409: error("NOT_ONLINE: the site is not online."),
        },
        tags=["sites"],
    )
    def post(self, request, pk):
        site = self.wordpress_site(request, pk)
        try:
            link = services.wordpress_login_link(site=site)
        except ValidationError as exc:
            raise ApiError(409, "NOT_ONLINE", exc.messages[0]) from exc
        expires = datetime.fromtimestamp(link.expires_at, tz=UTC)
        return Response(LoginLinkSerializer({"url": link.url, "expiresAt": expires}).data)
