"""Cursor pagination for every list: `?cursor=` and `?limit=` in, `{"results", "next", "previous"}` out.

Cursors are opaque and stable under inserts, unlike page numbers, and cost the same at any depth.
"""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100
    ordering = ("-created_at", "-id")
