"""API pagination (its own module: DRF imports it while building its generic views)."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class DefaultPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class LargeListPagination(CursorPagination):
    """Keyset pagination for lists that grow large (offset pagination degrades)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
