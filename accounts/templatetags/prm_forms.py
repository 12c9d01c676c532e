"""Template filters for accessible forms (built in: no {% load %} needed).

`{{ field|control }}` renders a bound field's widget tied to its help text and errors by
`aria-describedby` (ids `<id>_helptext` and `<id>_error`, as templates/partials/form.html
writes them) and marked `aria-invalid` when it has errors. `form|error_count` and
`form|has_required` serve the error summary and the "* required" note; `form|active_filters`
counts the filters a list is narrowed by (sorting and paging are not filters).
"""

from __future__ import annotations

from django import template
from django.forms import BaseForm, BoundField
from django.utils.safestring import SafeString

register = template.Library()


def described_by(field: BoundField) -> str:
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    return " ".join(ids)


@register.filter
def control(field: BoundField) -> SafeString:
    attrs = {}
    if described := described_by(field):
        attrs["aria-describedby"] = described
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def error_count(form: BaseForm) -> int:
    return sum(len(errors) for errors in form.errors.values()) if form.is_bound else 0


@register.filter
def has_required(form: BaseForm) -> bool:
    return any(field.field.required for field in form.visible_fields())


NOT_FILTERS = frozenset({"sort", "ordering", "page"})


@register.filter
def active_filters(form: BaseForm) -> int:
    if not form.is_bound:
        return 0
    data = form.data
    values = (
        (lambda name: data.getlist(name))
        if hasattr(data, "getlist")
        else (lambda name: [data.get(name)])
    )
    return sum(
        1
        for name in form.fields
        if name not in NOT_FILTERS and any(str(v or "").strip() for v in values(name))
    )
