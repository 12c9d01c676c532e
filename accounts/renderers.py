"""The API's JSON renderer: orjson (drf-orjson-renderer), the same JSON as DRF's own.

Serializers hand over strings, numbers, booleans, lists and dicts, which orjson writes
several times faster than the standard library. Anything else (a date, a Decimal, a lazy
translation in a hand-built body) goes through DRF's own encoder, so every value keeps
the form DRF's JSONRenderer gives it: the API's output is a contract.
"""

from __future__ import annotations

from typing import Any

import orjson
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_drf_encoder = JSONEncoder()


def _default(obj: Any) -> Any:
    if isinstance(obj, dict):
        return dict(obj)
    return _drf_encoder.default(obj)


class ApiJSONRenderer(ORJSONRenderer):
    options = (
        orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
    )

    def render(
        self, data: Any, media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=self.options)
