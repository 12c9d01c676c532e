"""{% product_line_name code %}: a product line's name where a stored breakdown keeps its
code (breakdowns are stored as calculated, keyed by code). The tenant's names are read once
per request, so a list of entries costs one query for all of them."""

from __future__ import annotations

from typing import Any

from django import template

from deals.selectors import product_line_names

register = template.Library()


@register.simple_tag(takes_context=True)
def product_line_name(context: Any, code: str) -> str:
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return code
    names = getattr(request, "_product_line_names", None)
    if names is None:
        names = product_line_names(tenant.pk)
        request._product_line_names = names
    return names.get(code, code)
