"""API throughput against a bare DRF list, as a ratio measured in one run.

    make bench BENCH_ARGS=api
    make bench BENCH_ARGS="api --seconds 5 --connections 8"

Seeds, if missing, a tenant `bench-api` with 100,000 opportunities (bench/pipeline_data.py)
plus registrations and commission ledger entries (enough for a full page), then starts two
gunicorns with 2 workers each on 127.0.0.1: ours (prm.wsgi, DEBUG off, the application
role, so row-level security applies; token auth) and the reference (bench/reference.py: a
plain DRF ListAPIView of the same table's newest 50 rows, no scoping, no RLS). One client
drives them in turns (alternating slices, so the load of a shared machine falls on both
alike), the same connections and duration for each, and prints per endpoint:

    api <endpoint> ours <req/s> reference <req/s> ratio <x>  (p50/p99 of both)

The client is Python threads with one http.client connection each (kept alive where the
server allows; gunicorn's sync workers close it after each answer, on both sides alike):
nothing to install, and it is the same client for both sides, which is what a ratio needs
(it costs CPU on the same 2 cores, so absolute figures are lower than wrk would show).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TENANT_SLUG = "bench-api"
PARTNERS = 200
REPS = 1000

REGISTRATIONS = """
INSERT INTO deals_dealregistration (
    tenant_id, partner_id, owner_id, customer_id, customer_name, customer_website,
    customer_country, contact_name, contact_email, contact_phone, name_normalized, name_core,
    root_domain, amount, currency, expected_close_date, budget_confirmed, decision_maker, need,
    timeline, description, status, first_submitted_at, submitted_at, decision_code,
    decision_message, auto_approved, extensions_granted, override_reason, source, created_at,
    updated_at)
SELECT o.tenant_id, o.partner_id, o.owner_id, NULL, 'Registered ' || o.id || ' GmbH',
       'https://registered' || o.id || '.example', 'DE', 'Contact ' || o.id,
       'contact' || o.id || '@registered.example', '', 'registered ' || o.id,
       'registered ' || o.id, 'registered' || o.id || '.example', o.amount, 'USD',
       o.expected_close_date, true, true, 'Generated need', 'This year', 'Bench registration',
       'submitted', now(), now(), '', '', false, 0, '', '', now(), now()
FROM pipeline_opportunity o
WHERE o.tenant_id = %(tenant)s AND o.partner_id IS NOT NULL
ORDER BY o.id LIMIT %(count)s
"""

EVENTS = """
INSERT INTO accounts_domainevent (tenant_id, name, subject_type, subject_id, payload,
                                  created_at, dispatched_at)
SELECT o.tenant_id, 'bench.commission', 'opportunity', o.id::text, '{}', now(), now()
FROM pipeline_opportunity o
WHERE o.tenant_id = %(tenant)s AND o.partner_id IS NOT NULL AND o.status = 'won'
ORDER BY o.id LIMIT %(count)s
"""

ENTRIES = """
INSERT INTO commissions_commissionentry (
    tenant_id, opportunity_id, partner_id, owner_id, kind, amount, currency, breakdown,
    status, closed_on, created_at, source_event_id)
SELECT o.tenant_id, o.id, o.partner_id, o.owner_id, 'accrual', round(o.amount / 10, 2), 'USD',
       '{}', 'accrued', coalesce(o.closed_on, current_date), now(), e.id
FROM accounts_domainevent e
JOIN pipeline_opportunity o ON o.id = e.subject_id::bigint AND o.tenant_id = e.tenant_id
WHERE e.tenant_id = %(tenant)s AND e.name = 'bench.commission'
"""


def seed(*, opportunities: int, rows: int):  # type: ignore[no-untyped-def]
    """The tenant, its people and deals (idempotent); returns (tenant, vendor admin)."""
    import psycopg

    from accounts.models import Membership, Role, Tenant, User
    from accounts.tenancy import tenant_context
    from bench.pipeline_data import seed_pipeline
    from partners.models import PartnerOrganization, PartnerTier
    from pipeline.services.stages import stages_install_defaults

    tenant, _ = Tenant.objects.get_or_create(slug=TENANT_SLUG, defaults={"name": "API Bench"})
    admin, _ = User.objects.get_or_create(email="admin@bench-api.test")
    with tenant_context(tenant):
        Membership.objects.get_or_create(
            tenant=tenant, user=admin, defaults={"role": Role.VENDOR_ADMIN}
        )
        stages_install_defaults(tenant=tenant)
        if not PartnerOrganization.objects.for_tenant(tenant).exists():
            tier = PartnerTier.objects.create(tenant=tenant, rank=1, name="Tier 1")
            partners = PartnerOrganization.objects.bulk_create(
                PartnerOrganization(
                    tenant=tenant, name=f"API Partner {n:04d}", tier=tier, country="US"
                )
                for n in range(PARTNERS)
            )
            users = User.objects.bulk_create(
                User(email=f"rep{n}@bench-api.test", full_name=f"Rep {n}", password="!")  # noqa: S106
                for n in range(REPS)
            )
            Membership.objects.bulk_create(
                Membership(
                    tenant=tenant,
                    user=user,
                    role=Role.PARTNER_REP,
                    partner=partners[n % PARTNERS],
                )
                for n, user in enumerate(users)
            )
    seed_pipeline(
        tenant_id=tenant.pk,
        admin_id=admin.pk,
        opportunities=opportunities,
        customers=opportunities // 5,
    )
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:  # the owner role
        params = {"tenant": tenant.pk, "count": rows}
        have = conn.execute(
            "SELECT count(*) FROM deals_dealregistration WHERE tenant_id = %s", [tenant.pk]
        ).fetchone()[0]  # type: ignore[index]
        if not have:
            conn.execute(REGISTRATIONS, params)
        have = conn.execute(
            "SELECT count(*) FROM commissions_commissionentry WHERE tenant_id = %s", [tenant.pk]
        ).fetchone()[0]  # type: ignore[index]
        if not have:
            conn.execute(EVENTS, params)
            conn.execute(ENTRIES, params)
        conn.commit()
    return tenant, admin


def token_for(tenant, admin) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A fresh token of the vendor admin (created through the service) and a deal's id."""
    from accounts.services.tokens import api_token_create
    from accounts.tenancy import tenant_context
    from pipeline.models import Opportunity

    with tenant_context(tenant):
        membership = admin.memberships.get(tenant=tenant)
        _, secret = api_token_create(membership=membership, name="api bench")
        deal = Opportunity.objects.for_tenant(tenant).order_by("-id").values_list("pk", flat=True)
        return secret, deal[10]


# --- Servers --------------------------------------------------------------------------------------


def start_gunicorn(*, port: int, settings: str, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collected static here
    }
    env.pop("PRM_DB_AS_OWNER", None)  # ours connects as the application role
    return subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "prm.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
            "--env",
            f"DJANGO_SETTINGS_MODULE={settings}",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: stopped as one below
    )


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_ready(port: int, path: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)  # noqa: S310
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {port} does not answer {path}: {error}") from error
            time.sleep(0.3)


# --- Load ---------------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    p50: float
    p99: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def drive(
    port: int, path: str, headers: dict[str, str], *, connections: int, seconds: float
) -> tuple[list[float], int]:
    """`connections` threads, each with one keep-alive connection, for `seconds`:
    the latencies of the answered requests and the count of failed ones."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    warmup_until = time.monotonic() + min(0.3, seconds / 5)
    stop_at = warmup_until + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = latencies[n]
        while True:
            start = time.monotonic()
            if start >= stop_at:
                break
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            end = time.monotonic()
            if start >= warmup_until:
                if ok:
                    mine.append(end - start)
                else:
                    errors[n] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [x for mine in latencies for x in mine], sum(errors)


def summarize(latencies: list[float], seconds: float, errors: int) -> Result:
    done = sorted(latencies)
    if not done:
        return Result(0, seconds, 0.0, 0.0, errors)

    def pct(q: float) -> float:
        return done[min(len(done) - 1, int(len(done) * q))] * 1000

    return Result(len(done), seconds, pct(0.50), pct(0.99), errors)


def compare(
    ours: tuple[int, str, dict[str, str]],
    reference: tuple[int, str, dict[str, str]],
    *,
    connections: int,
    seconds: float,
    slices: int,
) -> tuple[Result, Result]:
    """Alternate short slices of each side, so a change in the machine's load (other
    processes on a shared machine) falls on both sides alike."""
    collected: list[tuple[list[float], int]] = [([], 0), ([], 0)]
    for _ in range(slices):
        for side, (port, path, headers) in enumerate((ours, reference)):
            latencies, errors = drive(
                port, path, headers, connections=connections, seconds=seconds / slices
            )
            collected[side][0].extend(latencies)
            collected[side] = (collected[side][0], collected[side][1] + errors)
    return (
        summarize(collected[0][0], seconds, collected[0][1]),
        summarize(collected[1][0], seconds, collected[1][1]),
    )


OURS_PORT = int(os.environ.get("BENCH_API_PORT", "8111"))
REFERENCE_PORT = OURS_PORT + 1


def run(
    *, opportunities: int, rows: int, connections: int, seconds: float, workers: int, slices: int
) -> None:
    started = time.perf_counter()
    tenant, admin = seed(opportunities=opportunities, rows=rows)
    from bench.__main__ import analyze

    analyze()
    secret, deal_id = token_for(tenant, admin)
    print(
        f"api bench: tenant '{TENANT_SLUG}' with {opportunities} opportunities "
        f"({time.perf_counter() - started:.1f} s); {workers} gunicorn workers each, "
        f"{connections} connections, {seconds:g} s per side in {slices} alternating slices",
        flush=True,
    )
    ours_headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}
    reference_headers = {"Accept": "application/json"}
    endpoints = [
        ("/api/v1/opportunities/", "/ref/opportunities/"),
        (f"/api/v1/opportunities/{deal_id}/", "/ref/opportunities/"),
        ("/api/v1/registrations/", "/ref/registrations/"),
        ("/api/v1/commissions/", "/ref/commissions/"),
    ]
    ours = start_gunicorn(port=OURS_PORT, settings="prm.settings", workers=workers)
    reference = start_gunicorn(port=REFERENCE_PORT, settings="bench.reference", workers=workers)
    try:
        wait_ready(OURS_PORT, endpoints[0][0], ours_headers)
        wait_ready(REFERENCE_PORT, endpoints[0][1], reference_headers)
        for path, reference_path in endpoints:
            mine, theirs = compare(
                (OURS_PORT, path, ours_headers),
                (REFERENCE_PORT, reference_path, reference_headers),
                connections=connections,
                seconds=seconds,
                slices=slices,
            )
            ratio = mine.rate / theirs.rate if theirs.rate else 0.0
            shown = path.replace(str(deal_id), "<id>")
            errors = (
                f" errors {mine.errors}/{theirs.errors}" if mine.errors or theirs.errors else ""
            )
            print(
                f"api {shown} ours {mine.rate:.1f} reference {theirs.rate:.1f} "
                f"ratio {ratio:.2f}  (p50/p99 ms: ours {mine.p50:.1f}/{mine.p99:.1f}, "
                f"reference {theirs.p50:.1f}/{theirs.p99:.1f}){errors}",
                flush=True,
            )
    finally:
        stop(ours)
        stop(reference)
