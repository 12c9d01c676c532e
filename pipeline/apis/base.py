"""Shared pieces of the pipeline API."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Membership
from accounts.parsers import BoundedJSONParser
from pipeline.models import Stage


class JsonApi:
    """Request bodies are JSON only (a form post is a 415, not a differently typed body)."""

    parser_classes = (BoundedJSONParser,)


def stages_for(membership: Membership) -> QuerySet[Stage]:
    """The tenant's stages in order: every role reads them (partners: the active ones)."""
    stages = Stage.objects.for_tenant(membership.tenant_id).order_by("position", "id")
    return stages.filter(is_active=True) if membership.is_partner else stages
