"""DRF's multipart parser, refusing NUL in field values like every other request body.

``controlpanel.middleware.RefuseNulMiddleware`` checks query strings, forms and JSON before the
view; a multipart body of an API view is read only here, when the view asks for its data.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ValidationError

from controlpanel.middleware import NUL_MESSAGE, nul_field


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        field = nul_field(parsed.data)
        if field is not None:
            raise ValidationError({field or "body": [NUL_MESSAGE]})  # 422 in the envelope
        return parsed
