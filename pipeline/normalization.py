"""Match keys for end customers: a normalized name and a registrable root domain.

Screening (DESIGN.md, "Screening" and "Known traps") finds candidate duplicates and
channel conflicts with two indexed lookups, and these functions compute their keys:

- ``normalize_name(name).full`` is the legal name without case, accents, punctuation, a
  leading "the" and trailing legal-form suffixes ("Acme, Inc." and "ACME Inc" are both
  ``acme``). It is the exact key of last resort (the advisory-lock key when a customer
  has no domain) and the text a re-ranker such as RapidFuzz compares.
- ``normalize_name(name).core`` is ``full`` without generic business words ("software",
  "solutions", "group"...). It feeds the ``(tenant_id, name_core gin_trgm_ops)`` trigram
  index: on the full name the fuzzy lookup was 20x slower, because words every company
  shares match everything.
- ``domains_differ(a, b)`` says whether two root domains name different registrants: their
  labels left of the public suffix differ (``acme.com`` / ``acme.de`` do not;
  ``acme-importers.com`` / ``acme-exporters.com`` do). Screening takes different domains
  as evidence of different companies unless the names are equal once normalized.
- ``root_domain(value)`` is the registrable domain of a website, e-mail address or host
  (``https://shop.acme.co.uk/x`` and ``sales@acme.co.uk`` are both ``acme.co.uk``), for an
  exact btree ``(tenant_id, domain)`` lookup. Free-mail providers, IP addresses and
  garbage give ``""``, meaning "no domain key": gmail.com says nothing about a customer.

The Public Suffix List comes from the ``publicsuffixlist`` package, which ships a snapshot
of it and never fetches anything at run time. Every function here is pure and needs no
Django.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from publicsuffixlist import PublicSuffixList

__all__ = [
    "FREE_MAIL_DOMAINS",
    "NormalizedName",
    "domains_differ",
    "is_free_mail",
    "normalize_name",
    "root_domain",
]


@dataclass(frozen=True, slots=True)
class NormalizedName:
    full: str
    core: str


# --- names ----------------------------------------------------------------------------


def _phrases(*texts: str) -> list[str]:
    """The comma-separated entries of the tables below, whitespace collapsed."""
    return [" ".join(entry.split()) for text in texts for entry in text.split(",")]


# Legal forms written without spaces in Chinese, Japanese and Korean, longest first.
_CJK_LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "有限公司",
    "주식회사",
    "유한회사",
)
# Legal forms, written as the tokens they become once normalized ("S.A." -> "sa",
# "A/S" -> "as", "GmbH & Co. KG" -> "gmbh and co kg"). Stripped only at the end of a name.
_LEGAL_FORMS: frozenset[tuple[str, ...]] = frozenset(
    tuple(form.split())
    for form in _phrases(
        # English-speaking countries
        "inc, incorporated, corp, corporation, co, company, ltd, limited, plc, llc, lc, pllc,"
        " lp, llp, lllp, pty, pte, pvt, sdn, bhd, berhad, tbk, private limited,"
        " public limited company, limited liability company, limited liability partnership,"
        " limited partnership, l l c",
        # German, Austrian, Swiss
        "gmbh, mbh, ag, kg, kgaa, ohg, ug, haftungsbeschrankt, ev, eg, se, aktiengesellschaft,"
        " gesellschaft mit beschrankter haftung",
        # French, Belgian, Italian, Spanish, Portuguese, Latin American
        "sa, sas, sasu, sarl, sa rl, eurl, sca, snc, sprl, spa, srl, srls, sapa, scarl, sl, slu,"
        " sau, sll, ltda, lda, eireli, cia, sa de cv, s de rl, s de rl de cv, s a, s l,"
        " societe anonyme, sociedad anonima, sociedad limitada, societa per azioni",
        # Dutch, Nordic
        "bv, nv, b v, n v, bvba, vof, cv, naamloze vennootschap, besloten vennootschap,"
        " ab, ab publ, as, a s, asa, aps, oy, oyj, hf, ehf",
        # Central and Eastern European, Russian, Japanese
        "sro, spol s ro, doo, dd, kft, zrt, nyrt, bt, kkt, sp z oo, spzoo, ooo, zao, oao, pao,"
        " ооо, зао, оао, пао, ао, kk, kabushiki kaisha",
        ", ".join(_CJK_LEGAL_FORMS),
    )
)
_LONGEST_FORM = max(len(form) for form in _LEGAL_FORMS)
# Words that join a name to its legal form: "Smith & Co", "Müller u. Co. KG", "Pérez y Cía".
_CONNECTORS = frozenset({"and", "und", "u", "et", "y", "e"})
# Dropped from the front of a name: "The Limited", "OOO Romashka".
_LEADING = frozenset(
    {"the", "ooo", "zao", "oao", "pao", "ооо", "зао", "оао", "пао", *_CJK_LEGAL_FORMS}
)
# Words so common among companies that they only add noise to a trigram search.
_GENERIC_WORDS = frozenset(
    _phrases(
        "software, solution, solutions, system, systems, technology, technologies, technologie,"
        " tech, group, groupe, gruppe, grupo, gruppo, holding, holdings, international, intl,"
        " global, worldwide, services, service, consulting, consultants, consultancy, labs, lab,"
        " laboratories, digital, enterprises, industries, ventures, networks, informatique,"
        " informatik, sistemas, soluciones, servicios, systeme, losungen"
    )
)
# Left dangling at the edges of a core once generic words are gone: "Systems and Solutions".
_CORE_EDGE_WORDS = _CONNECTORS | {"of", "the", "de", "der", "des", "la", "le"}

_APOSTROPHES = re.compile("['\u2018\u2019\u201b`\u00b4\u02bc\u2032]")
# Single letters separated by dots or slashes, as in S.A., s. a., L.L.C., A/S, K.K.
_INITIALISM = re.compile(r"(?<![^\W_])[^\W\d_](?:[./] ?[^\W\d_])+(?![^\W_])\.?")
_INITIALISM_SEPARATORS = re.compile(r"[./ ]")
_NOT_WORD = re.compile(r"[\W_]+")
# Accents on Latin, Greek and Cyrillic letters (and not, say, Japanese voicing marks).
_COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Letters that carry their "accent" inside the code point, so NFKD cannot separate it.
_UNDECOMPOSABLE = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŋ": "ng",
        "ĸ": "k",
        "ƒ": "f",
    }
)


def normalize_name(name: str) -> NormalizedName:
    """The normalized legal name of a customer and its core for fuzzy matching."""
    tokens = _strip_cjk_legal_forms(_strip_legal_forms(_strip_leading(_name_tokens(name))))
    full = " ".join(tokens)
    core = " ".join(_core_tokens(tokens)) or full
    return NormalizedName(full=full, core=core)


def _name_tokens(name: str) -> list[str]:
    text = _APOSTROPHES.sub("", name.casefold())
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = _COMBINING_MARKS.sub("", text).translate(_UNDECOMPOSABLE)
        text = unicodedata.normalize("NFC", text)
    text = text.replace("&", " and ")
    text = _INITIALISM.sub(lambda match: _INITIALISM_SEPARATORS.sub("", match[0]), text)
    return _NOT_WORD.sub(" ", text).split()


def _strip_leading(tokens: list[str]) -> list[str]:
    start = 0
    while len(tokens) - start > 1 and tokens[start] in _LEADING:
        start += 1
    return tokens[start:]


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    """Drop trailing legal forms (and a connector before one), always keeping one token."""
    end = len(tokens)
    stripped = False
    while end > 1:
        length = _trailing_form_length(tokens, end)
        if length:
            end -= length
            stripped = True
        elif stripped and tokens[end - 1] in _CONNECTORS:
            end -= 1
        else:
            break
    return tokens[:end]


def _strip_cjk_legal_forms(tokens: list[str]) -> list[str]:
    """Drop legal forms glued to the end (or the start) of a name: "ソニー株式会社"."""
    if not tokens or tokens[-1].isascii():
        return tokens
    word, previous = tokens[-1], ""
    while word != previous:
        previous = word
        for form in _CJK_LEGAL_FORMS:
            if word != form and word.endswith(form):
                word = word.removesuffix(form)
            elif len(tokens) == 1 and word != form and word.startswith(form):
                word = word.removeprefix(form)
    return [*tokens[:-1], word]


def _trailing_form_length(tokens: list[str], end: int) -> int:
    for length in range(min(_LONGEST_FORM, end - 1), 0, -1):
        if tuple(tokens[end - length : end]) in _LEGAL_FORMS:
            return length
    return 0


def _core_tokens(tokens: list[str]) -> list[str]:
    core = [token for token in tokens if token not in _GENERIC_WORDS]
    start, end = 0, len(core)
    while start < end and core[start] in _CORE_EDGE_WORDS:
        start += 1
    while end > start and core[end - 1] in _CORE_EDGE_WORDS:
        end -= 1
    return core[start:end]


# --- domains --------------------------------------------------------------------------

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    _phrases(
        "gmail.com, googlemail.com, ymail.com, rocketmail.com, outlook.com, hotmail.com,"
        " live.com, live.co.uk, live.fr, live.de, live.nl, live.it, live.be, live.ca,"
        " live.com.au, live.jp, msn.com, passport.com, windowslive.com, icloud.com, me.com,"
        " mac.com, aol.com, aol.co.uk, aol.de, aol.fr, aim.com, proton.me, protonmail.com,"
        " protonmail.ch, pm.me, tutanota.com, tutanota.de, tuta.io, tuta.com, fastmail.com,"
        " fastmail.fm, hey.com, hushmail.com, zoho.com, zohomail.com, zohomail.eu, mail.com,"
        " email.com, usa.com, gmx.com, gmx.net, gmx.de, gmx.at, gmx.ch, web.de, t-online.de,"
        " freenet.de, mail.ru, inbox.ru, list.ru, bk.ru, yandex.ru, yandex.com, ya.ru,"
        " rambler.ru, qq.com, foxmail.com, 163.com, 126.com, yeah.net, sina.com, sina.cn,"
        " sohu.com, aliyun.com, naver.com, daum.net, hanmail.net, rediffmail.com, libero.it,"
        " virgilio.it, tiscali.it, wanadoo.fr, laposte.net, seznam.cz, wp.pl, o2.pl, onet.pl,"
        " interia.pl, abv.bg, ukr.net, btinternet.com, comcast.net, verizon.net, att.net,"
        " sbcglobal.net, bellsouth.net, cox.net, charter.net, earthlink.net, optonline.net,"
        " shaw.ca, rogers.com, sympatico.ca, bigpond.com, optusnet.com.au, xtra.co.nz,"
        " yahoo.com, yahoo.co.uk, yahoo.co.jp, yahoo.fr, yahoo.de, yahoo.es, yahoo.it,"
        " yahoo.ca, yahoo.com.au, yahoo.com.br, yahoo.co.in, hotmail.co.uk, hotmail.fr,"
        " hotmail.de, hotmail.es, hotmail.it"
    )
)
# Providers with a free-mail domain under (nearly) every country suffix: yahoo.com.mx.
_FREE_MAIL_BRANDS = frozenset({"yahoo", "hotmail", "outlook", "gmx", "yandex"})

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://|^mailto:", re.IGNORECASE)
_HOST_END = re.compile(r"[/?#\\]")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@cache
def _public_suffix_list() -> PublicSuffixList:
    # The list bundled with the package; unknown TLDs ("acme.local") are not accepted.
    return PublicSuffixList(accept_unknown=False)


def root_domain(value: str) -> str:
    """The registrable domain of a URL, e-mail address or host; "" when there is none."""
    host = _host(value)
    if not host:
        return ""
    root = _public_suffix_list().privatesuffix(host)
    if root is None or is_free_mail(root):
        return ""
    return root


@lru_cache(maxsize=4096)
def _registrable_label(domain: str) -> str:
    """The root domain without its public suffix: "acme" for acme.co.uk."""
    suffix = _public_suffix_list().publicsuffix(domain) or ""
    return domain.removesuffix(suffix).rstrip(".") if suffix != domain else domain


def domains_differ(first: str, second: str) -> bool:
    """Do two root domains (as `root_domain` gives them) differ beyond the top-level domain?
    False when either is unknown ("")."""
    if not first or not second or first == second:
        return False
    return _registrable_label(first) != _registrable_label(second)


def is_free_mail(domain: str) -> bool:
    """True for a root domain of a free e-mail provider (gmail.com, yahoo.com.mx...)."""
    if domain in FREE_MAIL_DOMAINS:
        return True
    brand, _, suffix = domain.partition(".")
    return brand in _FREE_MAIL_BRANDS and _public_suffix_list().is_public(suffix)


def _host(value: str) -> str:
    """The lower-case ASCII host name in a URL or e-mail address, "" if it has none."""
    text = value.strip()
    if "<" in text:  # "Jane Doe <jane@acme.com>"
        text = text.rpartition("<")[2].partition(">")[0].strip()
    text = _SCHEME.sub("", text).lstrip("/")
    text = _HOST_END.split(text, maxsplit=1)[0].rpartition("@")[2]
    if text.startswith("["):  # an IPv6 address
        return ""
    host = text.partition(":")[0].strip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    host = host.lower()
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return ""
    if all(label.isdigit() for label in labels):  # an IPv4 address
        return ""
    return host
