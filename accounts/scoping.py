"""View and API base classes that own get_queryset / get_object.

Subclasses declare `model` and may narrow rows with `refine_queryset()`; they cannot
override `get_queryset` or `get_object` (the class refuses to be defined), so no view can
skip the tenant and partner filter. A row outside the filter is a 404, exactly like a
row that does not exist.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.tenancy import TenantQuerySet, TenantScopedModel

SEALED = ("get_queryset", "get_object", "get_row")


class ScopedQuerysetMixin:
    model: ClassVar[type[TenantScopedModel]]
    lookup_url_kwarg = "pk"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in SEALED:
            if getattr(cls, name) is not getattr(ScopedQuerysetMixin, name):
                raise TypeError(f"{cls.__name__} may not override {name}(); use refine_queryset()")

    @property
    def acting_membership(self) -> Membership:
        membership = getattr(self.request, "membership", None)  # type: ignore[attr-defined]
        if membership is None:
            raise Http404
        return membership

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        """Hook: narrow, annotate or select_related; the scope is already applied."""
        return queryset

    def get_queryset(self) -> TenantQuerySet:
        scoped = self.model.objects.visible_to(self.acting_membership)  # type: ignore[attr-defined]
        return self.refine_queryset(scoped)

    def get_object(self, queryset: TenantQuerySet | None = None) -> TenantScopedModel:
        return self._lookup(self.get_queryset())

    def get_row(self, *fields: str, **expressions: Any) -> dict[str, Any]:
        """The object as a dict of `fields` and `expressions` (read with `.values()`, no
        model instance), for an endpoint that writes its row with a plain function: same
        scope, same 404."""
        rows = self.get_queryset().prefetch_related(None).values(*fields, **expressions)
        return self._lookup(rows)

    def lock_for_precondition(self) -> None:
        """Lock the row the URL names (FOR UPDATE, in the request's transaction) before an
        If-Match is compared, so the comparison holds until the change commits."""
        value = self.kwargs.get(self.lookup_url_kwarg)  # type: ignore[attr-defined]
        if not str(value).isdigit():
            return
        rows = self.model.objects.visible_to(self.acting_membership).filter(pk=int(value))  # type: ignore[attr-defined]
        list(rows.select_for_update(of=("self",)).values_list("pk", flat=True))

    def _lookup(self, base: TenantQuerySet) -> Any:
        value = self.kwargs.get(self.lookup_url_kwarg)  # type: ignore[attr-defined]
        try:
            obj = base.get(pk=int(value))
        except (TypeError, ValueError, self.model.DoesNotExist) as error:
            raise Http404(_("Not found.")) from error
        check = getattr(self, "check_object_permissions", None)
        if check is not None:
            check(self.request, obj)  # type: ignore[attr-defined]
        return obj
