"""Match keys for end customers: normalized names and registrable root domains."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from pipeline import normalization
from pipeline.normalization import (
    FREE_MAIL_DOMAINS,
    NormalizedName,
    domains_differ,
    is_free_mail,
    normalize_name,
    root_domain,
)

# (raw name, full, core)
NAME_CASES: list[tuple[str, str, str]] = [
    # English legal forms and spellings
    ("Acme", "acme", "acme"),
    ("Acme Inc", "acme", "acme"),
    ("Acme Inc.", "acme", "acme"),
    ("Acme, Inc.", "acme", "acme"),
    ("ACME INCORPORATED", "acme", "acme"),
    ("Acme LLC", "acme", "acme"),
    ("Acme L.L.C.", "acme", "acme"),
    ("Acme, L.L.C", "acme", "acme"),
    ("Acme L L C", "acme", "acme"),
    ("Acme Ltd", "acme", "acme"),
    ("Acme Ltd.", "acme", "acme"),
    ("Acme Limited", "acme", "acme"),
    ("Acme PLC", "acme", "acme"),
    ("Acme p.l.c.", "acme", "acme"),
    ("Acme Corp", "acme", "acme"),
    ("Acme Corp.", "acme", "acme"),
    ("Acme Corporation", "acme", "acme"),
    ("Acme Co", "acme", "acme"),
    ("Acme Co.", "acme", "acme"),
    ("Acme Company", "acme", "acme"),
    ("Acme Co., Ltd.", "acme", "acme"),
    ("Acme Company Limited", "acme", "acme"),
    ("Acme LP", "acme", "acme"),
    ("Acme L.P.", "acme", "acme"),
    ("Acme LLP", "acme", "acme"),
    ("Acme Limited Liability Company", "acme", "acme"),
    ("Acme Public Limited Company", "acme", "acme"),
    ("Acme Pty Ltd", "acme", "acme"),
    ("Acme Pty. Ltd.", "acme", "acme"),
    ("Acme Pte Ltd", "acme", "acme"),
    ("Acme Pte. Ltd.", "acme", "acme"),
    ("Acme Pvt Ltd", "acme", "acme"),
    ("Acme Private Limited", "acme", "acme"),
    ("Acme Sdn Bhd", "acme", "acme"),
    ("Acme Sdn. Bhd.", "acme", "acme"),
    ("Acme Berhad", "acme", "acme"),
    # German-speaking
    ("Acme GmbH", "acme", "acme"),
    ("ACME GMBH", "acme", "acme"),
    ("Acme G.m.b.H.", "acme", "acme"),
    ("Acme GmbH & Co. KG", "acme", "acme"),
    ("Acme GmbH & Co KG", "acme", "acme"),
    ("Acme GmbH u. Co. KG", "acme", "acme"),
    ("Acme KG", "acme", "acme"),
    ("Acme AG", "acme", "acme"),
    ("Acme KGaA", "acme", "acme"),
    ("Acme OHG", "acme", "acme"),
    ("Acme UG (haftungsbeschränkt)", "acme", "acme"),
    ("Acme e.V.", "acme", "acme"),
    ("Siemens Aktiengesellschaft", "siemens", "siemens"),
    ("Acme Gesellschaft mit beschränkter Haftung", "acme", "acme"),
    ("Müller Maschinenbau GmbH", "muller maschinenbau", "muller maschinenbau"),
    ("Straße & Söhne KG", "strasse and sohne", "strasse and sohne"),
    ("Acme SE", "acme", "acme"),
    # French, Belgian, Swiss
    ("Acme SA", "acme", "acme"),
    ("Acme S.A.", "acme", "acme"),
    ("Acme S. A.", "acme", "acme"),
    ("Acme S A", "acme", "acme"),
    ("Acme SAS", "acme", "acme"),
    ("Acme S.A.S.", "acme", "acme"),
    ("Acme SARL", "acme", "acme"),
    ("Acme S.à r.l.", "acme", "acme"),
    ("Acme S.A.R.L.", "acme", "acme"),
    ("Société Générale S.A.", "societe generale", "societe generale"),
    ("Crédit Agricole SA", "credit agricole", "credit agricole"),
    ("Acme Société Anonyme", "acme", "acme"),
    ("Acme SPRL", "acme", "acme"),
    # Italian, Spanish, Portuguese, Latin America
    ("Acme SpA", "acme", "acme"),
    ("Acme S.p.A.", "acme", "acme"),
    ("Acme SRL", "acme", "acme"),
    ("Acme S.r.l.", "acme", "acme"),
    ("Acme SL", "acme", "acme"),
    ("Acme S.L.", "acme", "acme"),
    ("Acme S.L.U.", "acme", "acme"),
    ("Acme S.A. de C.V.", "acme", "acme"),
    ("Acme S. de R.L. de C.V.", "acme", "acme"),
    ("Pérez y Cía. S.A.", "perez", "perez"),
    ("Acme Ltda.", "acme", "acme"),
    ("Acme Comércio Ltda", "acme comercio", "acme comercio"),
    ("Acme S/A", "acme", "acme"),
    ("Acme Lda", "acme", "acme"),
    ("Telefónica, S.A.", "telefonica", "telefonica"),
    # Dutch, Nordic
    ("Acme BV", "acme", "acme"),
    ("Acme B.V.", "acme", "acme"),
    ("Acme NV", "acme", "acme"),
    ("Acme N.V.", "acme", "acme"),
    ("Acme AB", "acme", "acme"),
    ("Acme AB (publ)", "acme", "acme"),
    ("Acme AS", "acme", "acme"),
    ("Acme A/S", "acme", "acme"),
    ("Acme ASA", "acme", "acme"),
    ("Acme ApS", "acme", "acme"),
    ("Acme Oy", "acme", "acme"),
    ("Acme Oyj", "acme", "acme"),
    ("Ørsted A/S", "orsted", "orsted"),
    ("Mærsk A/S", "maersk", "maersk"),
    ("Hennes & Mauritz AB", "hennes and mauritz", "hennes and mauritz"),
    ("Åhléns AB", "ahlens", "ahlens"),
    # Central and Eastern Europe, Turkey, Russia
    ("Łódź Sp. z o.o.", "lodz", "lodz"),
    ("Acme sp. z o.o.", "acme", "acme"),
    ("Acme s.r.o.", "acme", "acme"),
    ("Acme spol. s r.o.", "acme", "acme"),
    ("Acme Kft.", "acme", "acme"),
    ("Acme Zrt.", "acme", "acme"),
    ("İstanbul Yazılım A.Ş.", "istanbul yazilim", "istanbul yazilim"),
    ("Acme OOO", "acme", "acme"),
    ("OOO Romashka", "romashka", "romashka"),
    ("ООО «Ромашка»", "ромашка", "ромашка"),
    ("ПАО Сбербанк", "сбербанк", "сбербанк"),
    # Asia
    ("Acme KK", "acme", "acme"),
    ("Acme K.K.", "acme", "acme"),
    ("Toyota Motor Kabushiki Kaisha", "toyota motor", "toyota motor"),
    ("ソニー株式会社", "ソニー", "ソニー"),
    ("株式会社ソニー", "ソニー", "ソニー"),
    ("ｿﾆｰ株式会社", "ソニー", "ソニー"),
    ("台積電股份有限公司", "台積電", "台積電"),
    ("삼성전자 주식회사", "삼성전자", "삼성전자"),
    ("PT Telkom Indonesia Tbk", "pt telkom indonesia", "pt telkom indonesia"),
    # "the", "&", apostrophes and punctuation
    ("The Acme Company", "acme", "acme"),
    ("THE ACME CORP", "acme", "acme"),
    ("the the band", "band", "band"),
    ("Theranos Inc", "theranos", "theranos"),
    ("Acme & Sons Ltd", "acme and sons", "acme and sons"),
    ("Smith & Co.", "smith", "smith"),
    ("Smith and Company", "smith", "smith"),
    ("AT&T Inc.", "at and t", "at and t"),
    ("Procter & Gamble Co", "procter and gamble", "procter and gamble"),
    ("Marks and Spencer Group plc", "marks and spencer group", "marks and spencer"),
    ("McDonald's Corporation", "mcdonalds", "mcdonalds"),
    ("McDonald\u2019s Corporation", "mcdonalds", "mcdonalds"),
    ("Yahoo! Inc.", "yahoo", "yahoo"),
    ("J.P. Morgan Chase & Co.", "jp morgan chase", "jp morgan chase"),
    ("JP Morgan Chase and Co", "jp morgan chase", "jp morgan chase"),
    ("Acme (UK) Ltd", "acme uk", "acme uk"),
    ("Acme-Widget, Inc.", "acme widget", "acme widget"),
    ("Acme/Widget Corp", "acme widget", "acme widget"),
    ("Amazon.com, Inc.", "amazon com", "amazon com"),
    ("3M Company", "3m", "3m"),
    ("7-Eleven, Inc.", "7 eleven", "7 eleven"),
    ("Acme_Widgets Ltd", "acme widgets", "acme widgets"),
    # suffix words inside a name stay
    ("Co-op Bank", "co op bank", "co op bank"),
    ("The Co-operative Bank p.l.c.", "co operative bank", "co operative bank"),
    ("Agco", "agco", "agco"),
    ("Agco Corp", "agco", "agco"),
    ("Limited Brands Inc", "limited brands", "limited brands"),
    ("Incorporated Research Holdings", "incorporated research holdings", "incorporated research"),
    ("Corporate Express Inc", "corporate express", "corporate express"),
    ("Sasol Limited", "sasol", "sasol"),
    ("Saab AB", "saab", "saab"),
    ("Spartan Co", "spartan", "spartan"),
    ("Company Shop Ltd", "company shop", "company shop"),
    ("Ltd Commodities LLC", "ltd commodities", "ltd commodities"),
    # names made only of legal forms keep one token
    ("Limited", "limited", "limited"),
    ("The Limited", "limited", "limited"),
    ("Inc.", "inc", "inc"),
    ("Co", "co", "co"),
    ("Pte Ltd", "pte", "pte"),
    ("GmbH & Co. KG", "gmbh", "gmbh"),
    ("S.A.", "sa", "sa"),
    ("The", "the", "the"),
    ("株式会社", "株式会社", "株式会社"),
    # generic words only leave the core
    ("Acme Software GmbH", "acme software", "acme"),
    ("Acme Software Solutions Inc", "acme software solutions", "acme"),
    ("Acme Systems and Solutions Inc", "acme systems and solutions", "acme"),
    ("Acme Technologies Ltd", "acme technologies", "acme"),
    ("Acme Technology Group", "acme technology group", "acme"),
    ("Acme Holdings plc", "acme holdings", "acme"),
    ("Acme Holding AG", "acme holding", "acme"),
    ("Acme International Corp", "acme international", "acme"),
    ("Acme Global Services LLC", "acme global services", "acme"),
    ("Acme Consulting Group", "acme consulting group", "acme"),
    ("Acme Labs", "acme labs", "acme"),
    ("Acme Digital", "acme digital", "acme"),
    ("Global Payments Inc", "global payments", "payments"),
    (
        "International Business Machines Corporation",
        "international business machines",
        "business machines",
    ),
    ("Groupe Renault", "groupe renault", "renault"),
    ("Software AG", "software", "software"),
    ("Global Solutions Group Ltd", "global solutions group", "global solutions group"),
    ("Bank of America Corp", "bank of america", "bank of america"),
    # accents and unicode
    ("Nestlé S.A.", "nestle", "nestle"),
    ("Citroën", "citroen", "citroen"),
    ("Škoda Auto a.s.", "skoda auto", "skoda auto"),
    ("Œuvre Ltd", "oeuvre", "oeuvre"),
    ("Þórsberg ehf.", "thorsberg", "thorsberg"),
    ("Đorđević d.o.o.", "dordevic", "dordevic"),
    ("Ａｃｍｅ Ｉｎｃ", "acme", "acme"),
    ("ＡＣＭＥ　株式会社", "acme", "acme"),
    ("Ελληνική Εταιρεία", "ελληνικη εταιρεια", "ελληνικη εταιρεια"),
    ("ΑΚΜΕ", "ακμε", "ακμε"),
    ("Acme\u00a0Inc", "acme", "acme"),
    ("A\u0301cme Inc", "acme", "acme"),
    ("ﬁnance Inc", "finance", "finance"),
    # whitespace and empty input
    ("   Acme    Widgets   Inc   ", "acme widgets", "acme widgets"),
    ("Acme\tWidgets\nInc", "acme widgets", "acme widgets"),
    ("", "", ""),
    ("   ", "", ""),
    ("!!!", "", ""),
    ("...", "", ""),
]

LONG_NAME = " ".join(["Acme"] * 500) + " Ltd"


@pytest.mark.parametrize(("raw", "full", "core"), NAME_CASES)
def test_normalize_name(raw: str, full: str, core: str) -> None:
    assert normalize_name(raw) == NormalizedName(full=full, core=core)


def test_normalize_name_very_long_name() -> None:
    result = normalize_name(LONG_NAME)

    assert result.full == " ".join(["acme"] * 500)
    assert result.core == result.full


def test_normalized_name_is_frozen() -> None:
    result = normalize_name("Acme Inc")

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.full = "other"  # type: ignore[misc]


@pytest.mark.parametrize("raw", [case[0] for case in NAME_CASES] + [LONG_NAME])
def test_normalize_name_is_idempotent(raw: str) -> None:
    full = normalize_name(raw).full

    assert normalize_name(full).full == full


@pytest.mark.parametrize("raw", [case[0] for case in NAME_CASES])
def test_core_is_made_of_full_tokens_and_never_empty(raw: str) -> None:
    result = normalize_name(raw)

    assert set(result.core.split()) <= set(result.full.split())
    assert bool(result.core) == bool(result.full)


@pytest.mark.parametrize("raw", [case[0] for case in NAME_CASES])
def test_names_with_letters_or_digits_never_normalize_to_empty(raw: str) -> None:
    has_letters_or_digits = any(character.isalnum() for character in raw)

    assert bool(normalize_name(raw).full) == has_letters_or_digits


# (raw value, root domain)
DOMAIN_CASES: list[tuple[str, str]] = [
    # websites
    ("acme.com", "acme.com"),
    ("www.acme.com", "acme.com"),
    ("http://acme.com", "acme.com"),
    ("https://www.acme.com", "acme.com"),
    ("https://www.acme.com/", "acme.com"),
    ("https://www.acme.com/about/team.html", "acme.com"),
    ("https://www.acme.com?utm_source=x", "acme.com"),
    ("https://www.acme.com#contact", "acme.com"),
    ("https://www.acme.com:8443/path?q=1#frag", "acme.com"),
    ("http://user:secret@www.acme.com:8080/x", "acme.com"),
    ("ftp://files.acme.com/pub", "acme.com"),
    ("//acme.com/path", "acme.com"),
    ("acme.com/path/to/page", "acme.com"),
    ("acme.com:8080", "acme.com"),
    ("HTTPS://WWW.ACME.COM/ABOUT", "acme.com"),
    ("WWW.Acme.Com", "acme.com"),
    ("  https://www.acme.com  ", "acme.com"),
    ("acme.com.", "acme.com"),
    ("https://www.acme.com./", "acme.com"),
    ("http://acme.com\\path", "acme.com"),
    ("https://medium.com/@acme", "medium.com"),
    # sub-domains
    ("shop.acme.com", "acme.com"),
    ("eu.shop.acme.com", "acme.com"),
    ("https://a.b.c.d.acme.io/x", "acme.io"),
    ("www.www.acme.com", "acme.com"),
    # country second levels
    ("acme.co.uk", "acme.co.uk"),
    ("www.acme.co.uk", "acme.co.uk"),
    ("https://shop.acme.co.uk/basket", "acme.co.uk"),
    ("acme.com.au", "acme.com.au"),
    ("acme.co.jp", "acme.co.jp"),
    ("acme.com.br", "acme.com.br"),
    ("acme.co.nz", "acme.co.nz"),
    ("acme.com.cn", "acme.com.cn"),
    ("acme.org.uk", "acme.org.uk"),
    ("acme.de", "acme.de"),
    ("acme.gmbh", "acme.gmbh"),
    ("acme.github.io", "acme.github.io"),
    # e-mail addresses
    ("sales@acme.com", "acme.com"),
    ("Sales@ACME.COM", "acme.com"),
    ("jane.doe+crm@mail.acme.co.uk", "acme.co.uk"),
    ("mailto:jane@acme.de", "acme.de"),
    ("mailto:jane@acme.de?subject=Hello", "acme.de"),
    ("Jane Doe <jane@acme.fr>", "acme.fr"),
    (" jane@acme.com ", "acme.com"),
    # IDN
    ("münchen.de", "xn--mnchen-3ya.de"),
    ("https://www.MÜNCHEN.de/", "xn--mnchen-3ya.de"),
    ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ("info@bücher.ch", "xn--bcher-kva.ch"),
    ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ("www.пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ("ａｃｍｅ．ｃｏｍ", "acme.com"),
    # free mail
    ("gmail.com", ""),
    ("jane@gmail.com", ""),
    ("jane@googlemail.com", ""),
    ("jane@yahoo.com", ""),
    ("jane@yahoo.co.uk", ""),
    ("jane@yahoo.com.mx", ""),
    ("jane@mail.yahoo.com", ""),
    ("jane@hotmail.com", ""),
    ("jane@hotmail.fr", ""),
    ("jane@outlook.com", ""),
    ("jane@outlook.de", ""),
    ("jane@live.com", ""),
    ("jane@msn.com", ""),
    ("jane@icloud.com", ""),
    ("jane@me.com", ""),
    ("jane@aol.com", ""),
    ("jane@proton.me", ""),
    ("jane@protonmail.com", ""),
    ("jane@gmx.de", ""),
    ("jane@gmx.net", ""),
    ("jane@web.de", ""),
    ("jane@mail.ru", ""),
    ("jane@yandex.ru", ""),
    ("jane@yandex.com.tr", ""),
    ("jane@qq.com", ""),
    ("jane@163.com", ""),
    ("jane@zoho.com", ""),
    ("https://mail.google.com/mail", "google.com"),
    # IP addresses, localhost, garbage
    ("127.0.0.1", ""),
    ("http://192.168.1.10:8000/admin", ""),
    ("[::1]", ""),
    ("http://[2001:db8::1]/", ""),
    ("localhost", ""),
    ("http://localhost:8000", ""),
    ("acme", ""),
    ("acme.local", ""),
    ("acme.invalidtld", ""),
    ("co.uk", ""),
    ("com", ""),
    ("", ""),
    ("   ", ""),
    ("n/a", ""),
    ("not a website", ""),
    ("acme .com", ""),
    ("http://", ""),
    ("@", ""),
    ("jane@", ""),
    ("..", ""),
    ("acme..com", ""),
    ("-acme.com", ""),
    ("acme_corp.com", ""),
    ("a" * 64 + ".com", ""),
]


@pytest.mark.parametrize(("raw", "expected"), DOMAIN_CASES)
def test_root_domain(raw: str, expected: str) -> None:
    assert root_domain(raw) == expected


@pytest.mark.parametrize("raw", [case[0] for case in DOMAIN_CASES])
def test_root_domain_is_idempotent(raw: str) -> None:
    root = root_domain(raw)

    assert root_domain(root) == root


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("gmail.com", True),
        ("yahoo.fr", True),
        ("yahoo.com.ar", True),
        ("gmx.ch", True),
        ("acme.com", False),
        ("yahoo-finance.com", False),
        ("google.com", False),
    ],
)
def test_is_free_mail(domain: str, expected: bool) -> None:
    assert is_free_mail(domain) is expected


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("acme.com", "acme.de", False),
        ("acme.com", "acme.co.uk", False),
        ("acme.com", "acme.com", False),
        ("acme.com", "", False),
        ("", "", False),
        ("acme-importers.com", "acme-exporters.com", True),
        ("acme.com", "acme-group.com", True),
        ("acme.co.uk", "acne.co.uk", True),
    ],
)
def test_domains_differ_beyond_the_top_level_domain(first: str, second: str, expected: bool):
    assert domains_differ(first, second) is expected
    assert domains_differ(second, first) is expected


def test_free_mail_domains_are_root_domains() -> None:
    assert "gmail.com" in FREE_MAIL_DOMAINS
    assert all(domain == domain.lower().strip() for domain in FREE_MAIL_DOMAINS)


def test_root_domain_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    normalization._public_suffix_list.cache_clear()  # load the bundled list again, here

    assert root_domain("https://www.acme.co.uk/") == "acme.co.uk"
