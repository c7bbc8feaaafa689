"""Page-number pagination in the API clients' shape.

``{"<items>": [...], "pagination": {"currentPage": 1, "totalPages": 5, "totalItems": 47,
"limit": 10}}`` with ``?page=`` and ``?limit=``; a view names its list with ``results_key``.
"""

from __future__ import annotations

import math

from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from controlpanel.api.exceptions import ValidationFailed


class PagePagination(BasePagination):
    default_limit = 10
    max_limit = 100

    def _positive_int(self, request, name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ValidationFailed(
                f"'{name}' must be a positive whole number.", {name: ["Must be at least 1."]}
            )
        return value

    def paginate_queryset(self, queryset, request, view=None):
        self.limit = min(self._positive_int(request, "limit", self.default_limit), self.max_limit)
        self.page = self._positive_int(request, "page", 1)
        self.total = queryset.count() if hasattr(queryset, "count") else len(queryset)
        start = (self.page - 1) * self.limit
        self.results_key = getattr(view, "results_key", "results")
        return list(queryset[start : start + self.limit])

    def get_pagination_data(self) -> dict:
        return {
            "currentPage": self.page,
            "totalPages": max(1, math.ceil(self.total / self.limit)),
            "totalItems": self.total,
            "limit": self.limit,
        }

    def get_paginated_response(self, data):
        return Response({self.results_key: data, "pagination": self.get_pagination_data()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "results": schema,
                "pagination": {
                    "type": "object",
                    "properties": {
                        "currentPage": {"type": "integer"},
                        "totalPages": {"type": "integer"},
                        "totalItems": {"type": "integer"},
                        "limit": {"type": "integer"},
                    },
                },
            },
        }
