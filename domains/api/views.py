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

from controlpanel.api.exceptions import ApiError, ValidationFailed
from controlpanel.api.pagination import PagePagination
from controlpanel.api.views import validated
from domains import selectors, services
from domains.api import serializers as s
from domains.models import DnsRecord, Domain
from hosting.models import Site


def _domain(request, pk) -> Domain:
    try:
        return selectors.domain_get(user=request.user, pk=pk)
    except Domain.DoesNotExist:
        raise ApiError(404, "DOMAIN_NOT_FOUND", "No such domain.") from None


class DomainListView(APIView):
    """``GET /api/domains`` (paginated) and ``POST /api/domains`` (add, or register)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Part of the name"),
            OpenApiParameter("filter", str, description="registered, external, verified, ..."),
        ],
        operation_id="domains_list",
        responses={200: dict},
        tags=["domains"],
    )
    def get(self, request):
        domains = selectors.domain_list(
            user=request.user,
            query=request.query_params.get("q", ""),
            kind=request.query_params.get("filter", ""),
        )
        paginator = PagePagination()
        self.results_key = "domains"
        page = paginator.paginate_queryset(domains, request, view=self)
        return paginator.get_paginated_response([s.domain_json(d) for d in page])

    @extend_schema(request=s.DomainCreateSerializer, responses={201: dict}, tags=["domains"])
    def post(self, request):
        data = validated(s.DomainCreateSerializer, request)
        if data["register"]:
            domain = services.domain_register(
                owner=request.user, name=data["name"], years=data["years"], site=data.get("site")
            )
        else:
            domain = services.domain_add(
                owner=request.user, name=data["name"], site=data.get("site")
            )
        domain.refresh_from_db()
        return Response(s.domain_json(domain), status=status.HTTP_201_CREATED)


class DomainCheckView(APIView):
    """``GET /api/domains/check?name=brand`` availability and price per TLD, suggestions."""

    @extend_schema(
        parameters=[OpenApiParameter("name", str, required=True)],
        responses={200: dict},
        tags=["domains"],
    )
    def get(self, request):
        query = request.query_params.get("name", "")
        try:
            results, suggestions = services.domain_search(query=query)
        except ValidationError as exc:
            raise ValidationFailed(exc.messages[0], {"name": exc.messages}) from exc

        def row(r):
            return {
                "name": r.name,
                "unicodeName": r.display_name,
                "available": r.available,
                "price": str(r.price) if r.price is not None else None,
                "currency": r.currency,
                "reason": r.reason,
                "registrar": r.registrar,
            }

        return Response(
            {
                "query": query,
                "results": [row(r) for r in results],
                "suggestions": [row(r) for r in suggestions],
            }
        )


class DomainDetailView(APIView):
    @extend_schema(responses={200: dict}, tags=["domains"])
    def get(self, request, pk):
        return Response(s.domain_json(_domain(request, pk)))

    @extend_schema(request=s.DomainUpdateSerializer, responses={200: dict}, tags=["domains"])
    def patch(self, request, pk):
        domain = _domain(request, pk)
        data = validated(s.DomainUpdateSerializer, request)
        changes = {name: value for name, value in data.items() if name != "nameservers"}
        if changes:
            domain = services.domain_update(domain=domain, **changes)
        if "nameservers" in data:
            domain = services.domain_set_nameservers(domain=domain, nameservers=data["nameservers"])
        return Response(s.domain_json(selectors.domain_get(user=request.user, pk=pk)))

    put = patch

    @extend_schema(responses={204: None}, tags=["domains"])
    def delete(self, request, pk):
        domain = _domain(request, pk)
        try:
            services.domain_delete(domain=domain)
        except ValidationError as exc:
            raise ApiError(409, "DOMAIN_REGISTERED", exc.messages[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class DomainRenewView(APIView):
    @extend_schema(request=s.RenewSerializer, responses={200: dict}, tags=["domains"])
    def post(self, request, pk):
        domain = _domain(request, pk)
        data = validated(s.RenewSerializer, request)
        domain = services.domain_renew(domain=domain, years=data["years"])
        return Response(s.domain_json(domain))


class DomainVerifyView(APIView):
    """``POST /api/domains/<id>/verify``: check DNS now ("Verify now")."""

    @extend_schema(request=None, responses={200: dict}, tags=["domains"])
    def post(self, request, pk):
        domain = services.domain_verify(domain=_domain(request, pk))
        return Response(s.domain_json(selectors.domain_get(user=request.user, pk=domain.pk)))


class DomainDnsView(APIView):
    """``POST /api/domains/<id>/dns``: host the domain's zone in Berth."""

    @extend_schema(request=None, responses={200: dict}, tags=["domains"])
    def post(self, request, pk):
        domain = services.domain_dns_enable(domain=_domain(request, pk))
        return Response(s.domain_json(domain))


class RecordListView(APIView):
    @extend_schema(operation_id="domains_records_list", responses={200: dict}, tags=["dns"])
    def get(self, request, pk):
        domain = _domain(request, pk)
        records = selectors.record_list(domain=domain)
        return Response({"records": [s.record_json(r) for r in records]})

    @extend_schema(request=s.RecordSerializer, responses={201: dict}, tags=["dns"])
    def post(self, request, pk):
        domain = _domain(request, pk)
        data = validated(s.RecordSerializer, request)
        record = services.record_create(
            domain=domain,
            name=data["name"] or "@",
            type=data["type"],
            content=data["content"],
            ttl=data.get("ttl"),
            priority=data.get("priority"),
        )
        return Response(s.record_json(record), status=status.HTTP_201_CREATED)


class RecordDetailView(APIView):
    def _record(self, request, pk, record_id) -> DnsRecord:
        domain = _domain(request, pk)
        try:
            return selectors.record_get(domain=domain, pk=record_id)
        except DnsRecord.DoesNotExist:
            raise ApiError(404, "RECORD_NOT_FOUND", "No such record.") from None

    @extend_schema(responses={200: dict}, tags=["dns"])
    def get(self, request, pk, record_id):
        return Response(s.record_json(self._record(request, pk, record_id)))

    @extend_schema(request=s.RecordUpdateSerializer, responses={200: dict}, tags=["dns"])
    def patch(self, request, pk, record_id):
        record = self._record(request, pk, record_id)
        data = validated(s.RecordUpdateSerializer, request)
        record = services.record_update(record=record, **data)
        return Response(s.record_json(record))

    put = patch

    @extend_schema(responses={204: None}, tags=["dns"])
    def delete(self, request, pk, record_id):
        record = self._record(request, pk, record_id)
        services.record_delete(record=record)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SiteSslView(APIView):
    """Cloud Haven's ``GET /api/sites/<id>/ssl`` (a site's certificates), ``POST`` (request one)."""

    def _site(self, request, pk) -> Site:
        try:
            return selectors.site_get(user=request.user, pk=pk)
        except Site.DoesNotExist:
            raise ApiError(404, "SITE_NOT_FOUND", "No such site.") from None

    @extend_schema(responses={200: dict}, tags=["ssl"])
    def get(self, request, pk):
        site = self._site(request, pk)
        certs = selectors.certificates_of_site(user=request.user, site=site)
        return Response({"certificates": [s.certificate_json(c) for c in certs]})

    @extend_schema(request=s.CertificateRequestSerializer, responses={202: dict}, tags=["ssl"])
    def post(self, request, pk):
        site = self._site(request, pk)
        data = validated(s.CertificateRequestSerializer, request)
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
        return Response(s.certificate_json(cert), status=status.HTTP_202_ACCEPTED)
