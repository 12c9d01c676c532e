"""Vendor admin settings pages of deal registration."""

from __future__ import annotations

urlpatterns: list = []
