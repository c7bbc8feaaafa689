"""Domains over the REST API: registration, custom domains, zones and records, certificates.

Every view calls ``domains.services`` (which also carries the zone and certificate writes) and
reads through ``domains.selectors``; another user's domain or site answers 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.serializers import PurchaseResponseSerializer
from billing.api.views import purchase_response
from billing.models import Purchase
from controlpanel.api.exceptions import ApiError, ValidationFailed
from controlpanel.api.pagination import PagePagination
from controlpanel.api.schema import error
from controlpanel.api.views import validated
from domains import selectors, services
from domains.api import serializers
from domains.models import DnsRecord, Domain
from hosting.models import Site
from teams.context import current_team
from teams.permissions import DNS_MANAGE, DOMAIN_MANAGE, authorize, authorize_request

DOMAIN_NOT_FOUND = error("DOMAIN_NOT_FOUND: no such domain of yours.")
RECORD_NOT_FOUND = error("DOMAIN_NOT_FOUND, or RECORD_NOT_FOUND: no such domain or record.")
SITE_NOT_FOUND = error("SITE_NOT_FOUND: no such site of yours.")


def _domain(request, pk, write_action: str = DOMAIN_MANAGE) -> Domain:
    """A domain of the caller's teams their role allows this request on (reads: any member)."""
    try:
        domain = selectors.domain_get(user=request.user, pk=pk)
    except Domain.DoesNotExist:
        raise ApiError(404, "DOMAIN_NOT_FOUND", "No such domain.") from None
    authorize_request(request, domain, write_action)
    return domain


class DomainListView(APIView):
    """``GET /api/domains`` (paginated) and ``POST /api/domains`` (add, or register)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Part of the name"),
            OpenApiParameter("filter", str, description="registered, external, verified, ..."),
            OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter("limit", int, description="Items per page (at most 100)."),
        ],
        operation_id="domains_list",
        responses={200: serializers.DomainPageSerializer},
        tags=["domains"],
    )
    def get(self, request):
        domains = selectors.domain_list(
            user=request.user,
            team=current_team(request),
            query=request.query_params.get("q", ""),
            kind=request.query_params.get("filter", ""),
        )
        paginator = PagePagination()
        self.results_key = "domains"
        page = paginator.paginate_queryset(domains, request, view=self)
        return paginator.get_paginated_response(serializers.DomainSerializer(page, many=True).data)

    @extend_schema(
        request=serializers.DomainCreateSerializer,
        responses={
            201: serializers.DomainSerializer,
            202: PurchaseResponseSerializer,
            409: error(
                "PRICE_NOT_CONFIRMED: register without confirmPrice, or at a price that is no "
                "longer the registrar's; details hold the current price (RegistrationQuote)."
            ),
        },
        tags=["domains"],
    )
    def post(self, request):
        team = current_team(request)
        authorize(request.user, DOMAIN_MANAGE, team)
        data = validated(serializers.DomainCreateSerializer, request)
        if data["register"]:
            try:
                purchase = services.domain_register(
                    team=team,
                    owner=request.user,
                    name=data["name"],
                    years=data["years"],
                    site=data.get("site"),
                    confirm_price=data.get("confirm_price"),
                )
            except services.PriceNotConfirmed as exc:
                quote = serializers.RegistrationQuoteSerializer(exc.quote).data
                raise ApiError(409, "PRICE_NOT_CONFIRMED", str(exc), dict(quote)) from exc
            if purchase.status != Purchase.Status.FULFILLED:
                return purchase_response(purchase)
            domain = selectors.domain_get(user=request.user, pk=purchase.details["domain_id"])
        else:
            domain = services.domain_add(
                team=team, owner=request.user, name=data["name"], site=data.get("site")
            )
        domain.refresh_from_db()
        return Response(serializers.DomainSerializer(domain).data, status=status.HTTP_201_CREATED)


class DomainCheckView(APIView):
    """``GET /api/domains/check?name=brand`` availability and price per TLD, suggestions."""

    @extend_schema(
        parameters=[OpenApiParameter("name", str, required=True)],
        responses={200: serializers.DomainCheckSerializer},
        tags=["domains"],
    )
    def get(self, request):
        query = request.query_params.get("name", "")
        try:
            results, suggestions = services.domain_search(query=query)
        except ValidationError as exc:
            raise ValidationFailed(exc.messages[0], {"name": exc.messages}) from exc

        check = {"query": query, "results": results, "suggestions": suggestions}
        return Response(serializers.DomainCheckSerializer(check).data)


class DomainDetailView(APIView):
    @extend_schema(
        responses={200: serializers.DomainSerializer, 404: DOMAIN_NOT_FOUND}, tags=["domains"]
    )
    def get(self, request, pk):
        return Response(serializers.DomainSerializer(_domain(request, pk)).data)

    @extend_schema(
        request=serializers.DomainUpdateSerializer,
        responses={200: serializers.DomainSerializer, 404: DOMAIN_NOT_FOUND},
        tags=["domains"],
    )
    def patch(self, request, pk):
        domain = _domain(request, pk)
        data = validated(serializers.DomainUpdateSerializer, request)
        changes = {name: value for name, value in data.items() if name != "nameservers"}
        if changes:
            domain = services.domain_update(domain=domain, **changes)
        if "nameservers" in data:
            domain = services.domain_set_nameservers(domain=domain, nameservers=data["nameservers"])
        domain = selectors.domain_get(user=request.user, pk=pk)
        return Response(serializers.DomainSerializer(domain).data)

    put = patch

    @extend_schema(
        responses={
            204: None,
            404: DOMAIN_NOT_FOUND,
            409: error("DOMAIN_REGISTERED: a registered domain stays until it expires."),
        },
        tags=["domains"],
    )
    def delete(self, request, pk):
        domain = _domain(request, pk)
        try:
            services.domain_delete(domain=domain)
        except ValidationError as exc:
            raise ApiError(409, "DOMAIN_REGISTERED", exc.messages[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class DomainRenewView(APIView):
    @extend_schema(
        request=serializers.RenewSerializer,
        responses={
            200: serializers.DomainSerializer,
            202: PurchaseResponseSerializer,
            404: DOMAIN_NOT_FOUND,
        },
        tags=["domains"],
    )
    def post(self, request, pk):
        """Renew: charged first; 200 with the domain once renewed (a free renewal), else 202
        with the order awaiting payment (renewed once paid)."""
        domain = _domain(request, pk)
        data = validated(serializers.RenewSerializer, request)
        purchase = services.domain_renew(domain=domain, years=data["years"], buyer=request.user)
        if purchase.status != Purchase.Status.FULFILLED:
            return purchase_response(purchase)
        domain = selectors.domain_get(user=request.user, pk=pk)
        return Response(serializers.DomainSerializer(domain).data)


class DomainVerifyView(APIView):
    """``POST /api/domains/<id>/verify``: check DNS now ("Verify now")."""

    @extend_schema(
        request=None,
        responses={200: serializers.DomainSerializer, 404: DOMAIN_NOT_FOUND},
        tags=["domains"],
    )
    def post(self, request, pk):
        domain = services.domain_verify(domain=_domain(request, pk))
        domain = selectors.domain_get(user=request.user, pk=domain.pk)
        return Response(serializers.DomainSerializer(domain).data)


class DomainDnsView(APIView):
    """``POST /api/domains/<id>/dns``: host the domain's zone in Berth."""

    @extend_schema(
        request=None,
        responses={200: serializers.DomainSerializer, 404: DOMAIN_NOT_FOUND},
        tags=["domains"],
    )
    def post(self, request, pk):
        domain = services.domain_dns_enable(domain=_domain(request, pk))
        return Response(serializers.DomainSerializer(domain).data)


class RecordListView(APIView):
    @extend_schema(
        operation_id="domains_records_list",
        responses={200: serializers.RecordListSerializer, 404: DOMAIN_NOT_FOUND},
        tags=["dns"],
    )
    def get(self, request, pk):
        records = selectors.record_list(domain=_domain(request, pk, DNS_MANAGE))
        return Response(serializers.RecordListSerializer({"records": records}).data)

    @extend_schema(
        request=serializers.RecordSerializer,
        responses={201: serializers.RecordAnswerSerializer, 404: DOMAIN_NOT_FOUND},
        tags=["dns"],
    )
    def post(self, request, pk):
        domain = _domain(request, pk, DNS_MANAGE)
        data = validated(serializers.RecordSerializer, request)
        record = services.record_create(
            domain=domain,
            name=data["name"] or "@",
            type=data["type"],
            content=data["content"],
            ttl=data.get("ttl"),
            priority=data.get("priority"),
        )
        answer = serializers.RecordAnswerSerializer(record).data
        return Response(answer, status=status.HTTP_201_CREATED)


class RecordDetailView(APIView):
    def _record(self, request, pk, record_id) -> DnsRecord:
        domain = _domain(request, pk, DNS_MANAGE)
        try:
            return selectors.record_get(domain=domain, pk=record_id)
        except DnsRecord.DoesNotExist:
            raise ApiError(404, "RECORD_NOT_FOUND", "No such record.") from None

    @extend_schema(
        responses={200: serializers.RecordAnswerSerializer, 404: RECORD_NOT_FOUND}, tags=["dns"]
    )
    def get(self, request, pk, record_id):
        record = self._record(request, pk, record_id)
        return Response(serializers.RecordAnswerSerializer(record).data)

    @extend_schema(
        request=serializers.RecordUpdateSerializer,
        responses={200: serializers.RecordAnswerSerializer, 404: RECORD_NOT_FOUND},
        tags=["dns"],
    )
    def patch(self, request, pk, record_id):
        record = self._record(request, pk, record_id)
        data = validated(serializers.RecordUpdateSerializer, request)
        record = services.record_update(record=record, **data)
        return Response(serializers.RecordAnswerSerializer(record).data)

    put = patch

    @extend_schema(responses={204: None, 404: RECORD_NOT_FOUND}, tags=["dns"])
    def delete(self, request, pk, record_id):
        record = self._record(request, pk, record_id)
        services.record_delete(record=record)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SiteSslView(APIView):
    """Cloud Haven's ``GET /api/sites/<id>/ssl`` (a site's certificates), ``POST`` (request one)."""

    def _site(self, request, pk) -> Site:
        try:
            site = selectors.site_get(user=request.user, pk=pk)
        except Site.DoesNotExist:
            raise ApiError(404, "SITE_NOT_FOUND", "No such site.") from None
        authorize_request(request, site, DOMAIN_MANAGE)
        return site

    @extend_schema(
        responses={200: serializers.CertificateListSerializer, 404: SITE_NOT_FOUND},
        tags=["ssl"],
    )
    def get(self, request, pk):
        site = self._site(request, pk)
        certs = selectors.certificates_of_site(user=request.user, site=site)
        return Response(serializers.CertificateListSerializer({"certificates": certs}).data)

    @extend_schema(
        request=serializers.CertificateRequestSerializer,
        responses={
            202: serializers.CertificateSerializer,
            404: error("SITE_NOT_FOUND, or DOMAIN_NOT_FOUND: attach a custom domain first."),
        },
        tags=["ssl"],
    )
    def post(self, request, pk):
        site = self._site(request, pk)
        data = validated(serializers.CertificateRequestSerializer, request)
        try:
            cert = services.site_certificate_request(
                user=request.user,
                site=site,
                domain_id=data.get("domainId"),
                domain_name=data.get("domain") or "",
                names=data.get("names"),
                challenge=data.get("challenge"),
            )
        except Domain.DoesNotExist as exc:
            raise ApiError(404, "DOMAIN_NOT_FOUND", str(exc)) from None
        answer = serializers.CertificateSerializer(cert).data
        return Response(answer, status=status.HTTP_202_ACCEPTED)
