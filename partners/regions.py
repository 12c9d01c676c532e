"""The one country → sales region table: a partner's region defaults from its country.

Regions follow the UN M49 geoscheme: Northern America is NA; Latin America and the
Caribbean is LATAM; Europe, Africa and Western Asia are EMEA; the rest of Asia and Oceania
are APAC (Antarctica, in no M49 region, with the Australian and New Zealand territories).
A vendor may still set another region explicitly (e.g. Mexico under NA).
"""

from __future__ import annotations

from partners.models import Region


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


NORTH_AMERICA = _codes("BM CA GL PM US")
LATIN_AMERICA = _codes(
    "AG AI AR AW BB BL BO BQ BR BS BV BZ CL CO CR CU CW DM DO EC FK GD GF GP GS GT GY HN HT "
    "JM KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI"
)
ASIA_PACIFIC = _codes(
    "AF AQ AS AU BD BN BT CC CK CN CX FJ FM GU HK HM ID IN IR JP KG KH KI KP KR KZ LA LK MH MM "
    "MN MO MP MV MY NC NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TJ TK TL TM TO TV TW UM UZ "
    "VN VU WF WS"
)
EMEA = _codes(
    "AD AE AL AM AO AT AX AZ BA BE BF BG BH BI BJ BW BY CD CF CG CH CI CM CV CY CZ DE DJ DK "
    "DZ EE EG EH ER ES ET FI FO FR GA GB GE GG GH GI GM GN GQ GR GW HR HU IE IL IM IO IQ IS "
    "IT JE JO KE KM KW LB LI LR LS LT LU LV LY MA MC MD ME MG MK ML MR MT MU MW MZ NA NE NG "
    "NL NO OM PL PS PT QA RE RO RS RU RW SA SC SD SE SH SI SJ SK SL SM SN SO SS ST SY SZ TD "
    "TF TG TN TR TZ UA UG VA YE YT ZA ZM ZW"
)

REGION_OF_COUNTRY: dict[str, str] = {
    **dict.fromkeys(NORTH_AMERICA, Region.NORTH_AMERICA.value),
    **dict.fromkeys(LATIN_AMERICA, Region.LATIN_AMERICA.value),
    **dict.fromkeys(ASIA_PACIFIC, Region.APAC.value),
    **dict.fromkeys(EMEA, Region.EMEA.value),
}


def region_for_country(country: str) -> str | None:
    """The default region of an ISO 3166-1 alpha-2 country code (None: unknown code)."""
    return REGION_OF_COUNTRY.get(str(country).upper())
