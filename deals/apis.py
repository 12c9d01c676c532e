"""REST API of deal registration."""

from __future__ import annotations

urlpatterns: list = []
