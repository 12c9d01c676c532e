"""Writes of commissions, split by subdomain: plans (versions, rates, preview), the
calculation, attribution (accruals and clawbacks from domain events), the ledger."""
