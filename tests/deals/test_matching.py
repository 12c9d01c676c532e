"""Which customers screening treats as the same: a table of pairs that must and must not
match, each run through real registrations (indexed lookups, re-ranking, product lines)."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from deals.models import Finding
from deals.services.screening import registration_screen

# (first customer, second customer, product lines of the second, match expected)
# A customer is (name, website, contact e-mail, country).
CASES = [
    pytest.param(
        ("Acme Inc", "https://acme.com", "", "US"),
        ("ACME Corporation", "", "", "US"),
        ["cloud"],
        True,
        id="legal-suffixes-and-case",
    ),
    pytest.param(
        ("Acme, Inc.", "", "", "US"),
        ("Acme Inc", "", "", "US"),
        ["cloud"],
        True,
        id="punctuation",
    ),
    pytest.param(
        ("Société Générale S.A.", "", "", "FR"),
        ("Societe Generale", "", "", "FR"),
        ["cloud"],
        True,
        id="accents-and-initialism-suffix",
    ),
    pytest.param(
        ("Müller GmbH", "", "", "DE"),
        ("Mueller GmbH", "", "", "DE"),
        ["cloud"],
        True,
        id="spelling-variant",
    ),
    pytest.param(
        ("Fabrikam", "https://www.fabrikam.com", "", "US"),
        ("Fabrikam Holdings", "https://shop.fabrikam.com/eu", "", "US"),
        ["cloud"],
        True,
        id="sub-domains",
    ),
    pytest.param(
        ("Tailwind Traders", "https://tailwind.io", "", "US"),
        ("TWT Group", "", "buyer@eu.tailwind.io", "US"),
        ["cloud"],
        True,
        id="contact-email-domain",
    ),
    pytest.param(
        ("Litware Inc", "", "", "US"),
        ("Litware Software Inc", "", "", "US"),
        ["cloud"],
        True,
        id="generic-words",
    ),
    pytest.param(
        ("Blue Yonder Airlines", "", "", "US"),
        ("Blue Yonder Air", "", "", "US"),
        ["cloud"],
        True,
        id="close-name",
    ),
    pytest.param(
        ("Adventure Works", "", "jane@gmail.com", "US"),
        ("Tailspin Toys", "", "bob@gmail.com", "US"),
        ["cloud"],
        False,
        id="free-mail-domains-say-nothing",
    ),
    pytest.param(
        ("Alpine Ski House", "", "", "US"),
        ("Alpine Ski House", "", "", "CA"),
        ["cloud"],
        False,
        id="different-countries",
    ),
    pytest.param(
        ("Northwind Traders", "", "", "US"),
        ("Northwind Logistics", "", "", "US"),
        ["cloud"],
        False,
        id="different-company-same-first-word",
    ),
    pytest.param(
        ("Acme", "", "", "US"),
        ("Acne", "", "", "US"),
        ["cloud"],
        False,
        id="one-letter-apart-short-names",
    ),
    pytest.param(
        ("Coho Winery", "", "", "US"),
        ("Coho Vineyard", "", "", "US"),
        ["cloud"],
        False,
        id="different-second-word",
    ),
    pytest.param(
        ("Acme Inc", "https://acme.com", "", "US"),
        ("Acme Inc", "https://acme.com", "", "US"),
        ["security"],
        False,
        id="different-product-lines",
    ),
    pytest.param(
        ("Acme Inc", "https://acme.com", "", "US"),
        ("Acme Inc", "https://acme.com", "", "US"),
        ["security", "cloud"],
        True,
        id="overlapping-product-lines",
    ),
    # Registrable domains that differ beyond the top-level domain say "another company"
    # unless the names are equal once normalized (issue 9).
    pytest.param(
        ("Lakeside Veterinary Clinic", "https://lakesidevet.com", "", "US"),
        ("Lakeside Veterinary Clinics", "", "", "US"),
        ["cloud"],
        True,
        id="close-name-one-website",
    ),
    pytest.param(
        ("Lakeside Veterinary Clinic", "https://lakesidevet.com", "", "US"),
        ("Lakeside Veterinary Clinics", "https://www.lakesidevet.co.uk", "", "US"),
        ["cloud"],
        True,
        id="close-name-domains-differ-only-in-the-tld",
    ),
    pytest.param(
        ("Contoso Ltd", "https://contoso.com", "", "US"),
        ("Contoso Limited", "https://contoso-group.com", "", "US"),
        ["cloud"],
        True,
        id="equal-names-despite-different-domains",
    ),
    pytest.param(
        ("Lakeside Importers", "https://lakeside-importers.com", "", "US"),
        ("Lakeside Exporters", "https://lakeside-exporters.com", "", "US"),
        ["cloud"],
        False,
        id="distinguishing-word-and-different-domains",
    ),
    pytest.param(
        ("Hartwell Engineering", "https://hartwell-eng.com", "", "US"),
        ("Hurtwell Engineering", "https://hurtwell.com", "", "US"),
        ["cloud"],
        False,
        id="distinguishing-letter-and-different-domains",
    ),
    pytest.param(
        ("Lakeside Veterinary Clinic", "https://lakesidevet.com", "", "US"),
        ("Lakeside Veterinary Clinics", "", "office@lakeside-clinics.net", "US"),
        ["cloud"],
        False,
        id="close-name-and-a-contact-domain-that-differs",
    ),
]


def customer(values: tuple[str, str, str, str]) -> dict[str, str]:
    name, website, email, country = values
    return {
        "customer_name": name,
        "customer_website": website,
        "contact_email": email,
        "customer_country": country,
    }


@pytest.mark.parametrize(("first", "second", "lines", "expected"), CASES)
def test_screening_matches_the_same_customer_only(
    deals_world, register, first, second, lines, expected
):
    w = deals_world
    earlier = register(w.partner_rep, product_lines=["cloud"], **customer(first))
    later = register(w.other_partner_rep, product_lines=lines, **customer(second))

    with tenant_context(w.tenant):
        findings = list(Finding.objects.filter(registration=later))
    if expected:
        assert [(f.kind, f.other_registration_id) for f in findings] == [
            ("partner_conflict", earlier.pk)
        ]
        assert "cloud" in findings[0].product_lines
        assert later.status == "in_review"
    else:
        assert findings == []


def test_the_same_partner_registering_twice_is_a_duplicate(deals_world, register):
    w = deals_world
    first = register(w.partner_rep)
    again = register(w.partner_admin, customer_name="Fabrikam")

    with tenant_context(w.tenant):
        finding = Finding.objects.get(registration=again)
    assert (finding.kind, finding.other_registration_id, finding.score) == (
        "duplicate",
        first.pk,
        100,
    )
    assert finding.matched_keys == ["domain", "name", "country", "product_line"]


def test_a_later_registration_is_not_a_finding_of_an_earlier_one(deals_world, register):
    w = deals_world
    first = register(w.partner_rep, screen=False)
    second = register(w.other_partner_rep)  # screened while the first still waits

    with tenant_context(w.tenant):
        registration_screen(tenant=w.tenant, registration_id=first.pk)
        assert not Finding.objects.filter(registration=first).exists()
        assert Finding.objects.get(registration=second).other_registration_id == first.pk
