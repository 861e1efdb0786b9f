"""The body of an SMS gateway request: ``HAZE_SMS_BODY_TEMPLATE`` filled in.

Apart from :mod:`service.notify.sms` so the settings can check a template at start without
importing the channel (which imports the settings).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from string import Template
from urllib.parse import quote_plus

PLACEHOLDERS = ("to", "text", "message_id", "language")
_SAMPLE = {"to": "+8613800000000", "text": '【"\\】\n', "message_id": "m", "language": "en"}


def render_body(template: str, body_format: str, values: Mapping[str, str]) -> str:
    """``template`` with its ``$placeholders`` replaced by ``values`` escaped for
    ``body_format``: ``json`` (JSON string escapes, the template supplies the quotes) or
    ``form`` (percent-encoded)."""
    if body_format == "json":
        escaped = {k: json.dumps(v, ensure_ascii=False)[1:-1] for k, v in values.items()}
    else:
        escaped = {k: quote_plus(v) for k, v in values.items()}
    return Template(template).substitute(escaped)


def check_template(template: str, body_format: str) -> None:
    """Raise a ValueError unless ``template`` names only :data:`PLACEHOLDERS` and, for
    ``json``, gives valid JSON once filled in."""
    parsed = Template(template)
    if not parsed.is_valid():
        raise ValueError("HAZE_SMS_BODY_TEMPLATE has a '$' that is not a placeholder ($$ is '$')")
    unknown = set(parsed.get_identifiers()) - set(PLACEHOLDERS)
    if unknown:
        raise ValueError(f"HAZE_SMS_BODY_TEMPLATE names unknown placeholders {sorted(unknown)}")
    if body_format == "json":
        try:
            json.loads(render_body(template, body_format, _SAMPLE))
        except json.JSONDecodeError as error:
            raise ValueError(
                f"HAZE_SMS_BODY_TEMPLATE does not give JSON once filled in: {error}"
            ) from None
