"""What a tenant's deal registration starts with. Plain data, also used by migrations."""

from __future__ import annotations

# (code, label): the rejection reasons every tenant starts with (DESIGN "Lifecycles").
DEFAULT_REJECTION_REASONS: tuple[tuple[str, str], ...] = (
    ("duplicate", "Duplicate"),
    ("existing_customer", "Existing customer"),
    ("direct_deal_active", "Direct deal active"),
    ("outside_territory", "Outside territory"),
    ("insufficient_information", "Insufficient information"),
    ("registered_first", "Another partner registered first"),
    ("other", "Other"),
)
# A tenant with no product line yet gets this one, so partners can register at once.
DEFAULT_PRODUCT_LINE = ("all-products", "All products")
