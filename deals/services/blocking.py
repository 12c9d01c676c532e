"""Fairness of protection: a customer × product line is protected for one partner.

A registration is *blocked* while a finding links it — its own finding, or a finding of
another registration that points at it — to an APPROVED registration of ANOTHER partner
whose product lines overlap its own. A registration without product lines (rows from
before a line was required at submission) overlaps every line. The check reads the state
at approval time, under transaction-scoped advisory locks on the exact keys of this
registration and of every registration its findings link: two registrations that match
only fuzzily ("… Clinic" / "… Clinics") have different exact keys, so the partial unique
constraint on ProtectionClaim cannot arbitrate them alone.

A vendor role may approve a blocked registration anyway with an OverrideReason. It then
claims only the key × product lines the blocking registrations do not already hold (one
active claim per key × line stays true), and both partners are told the decision and its
reason, never who the other partner is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from accounts.errors import Conflict, ValidationFailed
from accounts.models import User
from deals.models import DealRegistration, Finding, OverrideReason, RegistrationProductLine
from deals.services.keys import lock_keys, registration_keys
from deals.services.protection import approve_locked
from deals.services.timeline import tell_partner, timeline_record

APPROVED = DealRegistration.Status.APPROVED


@dataclass(frozen=True)
class Blocker:
    """A finding that links the registration to another partner's protected one."""

    finding_id: int
    kind: str
    kind_label: str
    registration: DealRegistration
    product_lines: list[str]  # names of the lines both cover


class ApprovalBlocked(Conflict):
    """Another partner's registration already protects this customer on a shared line."""

    code = "approval_blocked"

    def __init__(self, blockers: list[Blocker]) -> None:
        first = blockers[0]
        super().__init__(
            f"Blocked by finding #{first.finding_id} ({first.kind_label}): registration "
            f"#{first.registration.pk} of another partner is approved and protected for this "
            f"customer on {', '.join(first.product_lines)}. Reject this one, or approve it "
            "anyway with a reason."
        )
        self.blockers = blockers

    def details(self) -> dict[str, Any]:
        return {
            "blocking_findings": [
                {
                    "finding_id": blocker.finding_id,
                    "kind": blocker.kind,
                    "registration_id": blocker.registration.pk,
                }
                for blocker in self.blockers
            ]
        }


def lines_overlap(mine: set[Any], theirs: set[Any]) -> bool:
    """Do two sets of product lines overlap? An empty set stands for every line."""
    return not mine or not theirs or bool(mine & theirs)


def override_reason_clean(value: Any) -> str:
    """ "" (no override) or one of the OverrideReason codes; else ValidationFailed."""
    if value in ("", None):
        return ""
    if not isinstance(value, str) or value not in OverrideReason.values:
        raise ValidationFailed(
            "Choose why this registration is approved anyway.",
            fields={"override_reason": [f"One of: {', '.join(OverrideReason.values)}."]},
        )
    return value


def _linked(registration: DealRegistration) -> Q:
    return Q(registration=registration, other_registration__isnull=False) | Q(
        other_registration=registration
    )


def lock_with_linked(registration: DealRegistration) -> None:
    """Advisory locks on the exact keys of the registration and of every registration a
    finding links it to, in one statement (one order: no deadlocks)."""
    findings = Finding.objects.filter(_linked(registration), tenant_id=registration.tenant_id)
    ids = {
        pk
        for pair in findings.values_list("registration_id", "other_registration_id")
        for pk in pair
    }
    keys = set(registration_keys(registration).exact)
    others = DealRegistration.objects.filter(
        tenant_id=registration.tenant_id, pk__in=ids - {registration.pk}
    )
    for other in others.only("name_normalized", "name_core", "root_domain", "customer_country"):
        keys.update(registration_keys(other).exact)
    lock_keys(tenant_id=registration.tenant_id, keys=sorted(keys))


def protection_blockers(registration: DealRegistration) -> list[Blocker]:
    """The findings that block the registration's approval now (see the module doc), at
    most one per blocking registration, oldest finding first. Two queries."""
    other_side = Q(registration=registration, other_registration__status=APPROVED) & ~Q(
        other_registration__partner_id=registration.partner_id
    ) | Q(other_registration=registration, registration__status=APPROVED) & ~Q(
        registration__partner_id=registration.partner_id
    )
    findings = (
        Finding.objects.filter(other_side, tenant_id=registration.tenant_id)
        .select_related("registration__partner", "other_registration__partner")
        .order_by("id")
    )
    pairs = [(finding, _other_of(finding, registration)) for finding in findings]
    if not pairs:
        return []
    lines = _line_names([registration.pk, *(other.pk for _, other in pairs)])
    mine = lines.get(registration.pk, {})
    blockers: dict[int, Blocker] = {}
    for finding, other in pairs:
        theirs = lines.get(other.pk, {})
        if other.pk in blockers or not lines_overlap(set(mine), set(theirs)):
            continue
        blockers[other.pk] = Blocker(
            finding_id=finding.pk,
            kind=finding.kind,
            kind_label=finding.get_kind_display(),
            registration=other,
            product_lines=_shared_names(mine, theirs),
        )
    return list(blockers.values())


def _other_of(finding: Finding, registration: DealRegistration) -> DealRegistration:
    other = (
        finding.other_registration
        if finding.registration_id == registration.pk
        else finding.registration
    )
    if other is None:  # impossible: the query follows a registration on both sides
        raise ValueError(f"finding {finding.pk} links no registration")
    return other


def _shared_names(mine: dict[int, str], theirs: dict[int, str]) -> list[str]:
    if mine and theirs:
        return sorted(mine[pk] for pk in set(mine) & set(theirs))
    return sorted({**mine, **theirs}.values()) or ["every product line"]


def _line_names(registration_ids: list[int]) -> dict[int, dict[int, str]]:
    """registration id → {product line id: name}, in one query."""
    rows = RegistrationProductLine.objects.filter(registration_id__in=registration_ids).values_list(
        "registration_id", "product_line_id", "product_line__name"
    )
    lines: dict[int, dict[int, str]] = {}
    for registration_id, line_id, name in rows:
        lines.setdefault(registration_id, {})[line_id] = name
    return lines


def approve_alongside(
    registration: DealRegistration,
    *,
    actor: User,
    note: str,
    override_reason: str,
    blockers: list[Blocker],
) -> DealRegistration:
    """Approve a blocked (locked) registration anyway; each blocking registration's partner
    is told its protection is now shared, and why — never with whom."""
    approve_locked(
        registration,
        actor=actor,
        note=note,
        auto=False,
        override_reason=override_reason,
        share_with=[blocker.registration.pk for blocker in blockers],
    )
    reason = OverrideReason(override_reason).label.lower()
    for blocker in blockers:
        other = blocker.registration
        timeline_record(
            other,
            verb="protection_shared",
            actor=actor,
            from_status=other.status,
            reason_code=override_reason,
            message=f"A later registration of this customer was approved alongside yours: "
            f"{reason}. Your protection is unchanged.",
        )
        tell_partner(
            other,
            verb="registration_protection_shared",
            message=f"A later registration of {other.customer_name} was approved alongside "
            f"yours: {reason}. Your protection is unchanged.",
        )
    return registration
