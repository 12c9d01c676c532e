"""Conditional requests on API details (RFC 9110 §8.8.3, §13): a strong `ETag` on every
detail GET and write answer, `If-None-Match` on GET (304) and `If-Match` on PUT/PATCH (412).

The entity tag is a hash of the representation as the API renders it (the JSON bytes of
ApiJSONRenderer, which ignores negotiation parameters, so the same data always gives the
same bytes). It changes exactly when what the member is shown changes, including what a
row's own `updated_at` or a version column would miss (a renamed customer or stage, a
recomputed staleness, another role's narrower view), and costs no query: the detail is
read anyway, hashing a few KB takes microseconds.
"""

from __future__ import annotations

import hashlib
import re

from accounts.errors import ApplicationError

_TAG = r'(?:W/)?"[\x21\x23-\x7e]*"'
ENTITY_TAG_LIST = re.compile(rf"^[ \t]*(?:\*|{_TAG}(?:[ \t]*,[ \t]*{_TAG})*)[ \t]*$")
ENTITY_TAG_LIST_PATTERN = ENTITY_TAG_LIST.pattern
_TAGS = re.compile(_TAG)


class PreconditionInvalid(ApplicationError):
    code = "precondition_invalid"
    status = 400


def entity_tag(content: bytes) -> str:
    """The strong entity tag of a rendered representation."""
    return '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'


def parse_tags(header: str, name: str) -> list[str] | None:
    """The entity tags of an If-Match / If-None-Match value; None for `*`."""
    if len(header) > 4096 or not ENTITY_TAG_LIST.match(header):
        raise PreconditionInvalid(
            f"{name} must be `*` or a comma-separated list of quoted entity tags, "
            'as the ETag header gives them (e.g. "3f2a…").'
        )
    if header.strip() == "*":
        return None
    return _TAGS.findall(header)


def matches_strongly(tags: list[str] | None, current: str) -> bool:
    """If-Match: strong comparison (a weak tag never matches)."""
    return tags is None or current in tags


def matches_weakly(tags: list[str] | None, current: str) -> bool:
    """If-None-Match: weak comparison (W/ is ignored)."""
    return tags is None or current in {tag.removeprefix("W/") for tag in tags}
