"""The API's filter backend (its own module: DRF imports it while building its generic views)."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request
from rest_framework.views import APIView


class ListFilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names none of the list's filters.

    Building a FilterSet (deep copies of every filter, a bound form, its validation) costs
    more than reading a page; with no filter parameter it would change nothing, since every
    filter leaves the rows alone for an empty value. A parameter that starts with a filter's
    name (range filters read `<name>_min`, `<name>_after`, …) goes through it as before.
    """

    def filter_queryset(self, request: Request, queryset: Any, view: APIView) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(param.startswith(names) for param in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
