"""WordPress over the REST API: ``GET`` and ``PATCH /api/sites/<id>/wordpress`` (details;
PHP limits, debug and maintenance mode), start, stop, login and the admin password. Creation is
``POST /api/sites/create`` with ``kind: wordpress`` (hosting.api), and ``DELETE /api/sites/<id>``
removes everything."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.api.exceptions import ApiError
from controlpanel.api.schema import error
from controlpanel.api.views import validated
from hosting.api.views import SiteMixin
from hosting.models import Site
from wordpress import selectors, services
from wordpress.api.serializers import (
    AdminPasswordSerializer,
    AdminPasswordSetSerializer,
    LoginLinkSerializer,
    WordPressSerializer,
    WordPressSettingsSerializer,
)
from wordpress.mariadb import MariaDBError
from wordpress.pools import PoolError
from wordpress.system import SiteSetupError

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


NOT_INSTALLED = error("NOT_INSTALLED: provisioning has not finished.")
WORDPRESS_FAILED = error("WORDPRESS_FAILED: the change could not be made in the site.")


def _not_applied(exc: Exception) -> ApiError:
    return ApiError(502, "WORDPRESS_FAILED", str(exc) or type(exc).__name__)


class WordPressView(WordPressMixin, APIView):
    @extend_schema(
        operation_id="sites_wordpress",
        responses={200: WordPressSerializer, 404: NOT_FOUND},
        tags=["sites"],
    )
    def get(self, request, pk):
        return Response(self.detail_json(self.wordpress_site(request, pk)))

    @extend_schema(
        operation_id="sites_wordpress_settings",
        request=WordPressSettingsSerializer,
        responses={
            200: WordPressSerializer,
            404: NOT_FOUND,
            422: error("VALIDATION_ERROR: a limit is outside the plan."),
            502: WORDPRESS_FAILED,
        },
        tags=["sites"],
    )
    def patch(self, request, pk):
        """PHP limits (within the plan), debug mode and maintenance mode, applied at once."""
        site = self.wordpress_site(request, pk)
        changes = validated(WordPressSettingsSerializer, request)
        try:
            services.wordpress_settings_update(site=site, by=request.user, **changes)
        except (SiteSetupError, PoolError, MariaDBError, OSError) as exc:
            raise _not_applied(exc) from exc
        return Response(self.detail_json(site))


class WordPressUpdateView(WordPressMixin, APIView):
    """``POST /api/sites/<id>/wordpress/update``: back the site up, then update its WordPress
    to the server's package version (answers at once; ``update.state`` follows it)."""

    @extend_schema(
        operation_id="sites_wordpress_update",
        request=None,
        responses={
            202: WordPressSerializer,
            404: NOT_FOUND,
            409: error("NO_UPDATE: already at the package's version, or an update is under way."),
        },
        tags=["sites"],
    )
    def post(self, request, pk):
        site = self.wordpress_site(request, pk)
        try:
            services.wordpress_core_update(site=site, by=request.user)
        except ValidationError as exc:
            raise ApiError(409, "NO_UPDATE", exc.messages[0]) from exc
        return Response(self.detail_json(site), status=202)


class WordPressPasswordView(WordPressMixin, APIView):
    """``POST /api/sites/<id>/wordpress/password``: a new password for the site's WordPress
    administrator."""

    @extend_schema(
        operation_id="sites_wordpress_password",
        request=AdminPasswordSerializer,
        responses={
            200: AdminPasswordSetSerializer,
            404: NOT_FOUND,
            422: error("VALIDATION_ERROR: the password is too short, or WordPress is not set up."),
            502: WORDPRESS_FAILED,
        },
        tags=["sites"],
    )
    def post(self, request, pk):
        site = self.wordpress_site(request, pk)
        data = validated(AdminPasswordSerializer, request)
        try:
            login = services.wordpress_admin_password_set(
                site=site, password=data["password"], by=request.user
            )
        except SiteSetupError as exc:
            raise _not_applied(exc) from exc
        return Response(AdminPasswordSetSerializer({"adminUser": login}).data)


class WordPressActionView(WordPressMixin, APIView):
    action = ""

    @extend_schema(
        request=None,
        responses={
            200: WordPressSerializer,
            404: NOT_FOUND,
            409: NOT_INSTALLED,
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
