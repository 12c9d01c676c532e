"""Backfill or repair the per-deal facts (analytics.models.DealFact): every deal of every
tenant, or of one (`--tenant SLUG`). The hourly beat sweep does the same."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import Tenant
from analytics.services.deal_facts import deal_facts_refresh_all


class Command(BaseCommand):
    help = "Recompute the per-deal facts the co-sell impact report reads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="slug of one tenant (default: every tenant)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("pk")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
        for tenant in tenants:
            started = time.perf_counter()
            written = deal_facts_refresh_all(tenant=tenant)
            seconds = time.perf_counter() - started
            self.stdout.write(f"{tenant.slug}: {written} rows written in {seconds:.1f} s")
