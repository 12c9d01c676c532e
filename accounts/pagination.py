"""API pagination (its own module: DRF imports it while building its generic views).

A page number or cursor the list cannot honour is a 400 naming the parameter, in the one
error shape: it is a bad request, not a missing resource.
"""

from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination


class DefaultPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise ValidationError({self.page_query_param: ["Invalid page."]}) from None


class LargeListPagination(CursorPagination):
    """Keyset pagination for lists that grow large (offset pagination degrades)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        # A forged cursor may decode to a position the ordering column cannot compare with
        # ("p=abc" against an integer id): that fails while the page is read.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (NotFound, ValueError, TypeError):
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None
