"""The language of a request's texts: ``?lang=``, else ``Accept-Language``, else the default.

Only Simplified Chinese (``zh-CN``) and English (``en``) exist; any ``zh`` tag means
``zh-CN``, any ``en`` tag ``en``; the first supported tag of ``Accept-Language`` wins (quality
values are honoured by order of preference). Only the first
:data:`MAX_ACCEPT_LANGUAGE_CHARS` characters and :data:`MAX_ACCEPT_LANGUAGE_ENTRIES` entries
of ``Accept-Language`` are looked at, so a huge header costs no more than a short one.
"""

from __future__ import annotations

from starlette.requests import Request

LANGUAGES = ("zh-CN", "en")
MAX_ACCEPT_LANGUAGE_CHARS = 256
MAX_ACCEPT_LANGUAGE_ENTRIES = 16


def supported_language(tag: str) -> str | None:
    tag = tag.strip().lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def parse_accept_language(header: str) -> str | None:
    """The preferred supported language of an ``Accept-Language`` header, or None."""
    ranked = []
    parts = header[:MAX_ACCEPT_LANGUAGE_CHARS].split(",", MAX_ACCEPT_LANGUAGE_ENTRIES)
    for position, part in enumerate(parts[:MAX_ACCEPT_LANGUAGE_ENTRIES]):
        tag, _, params = part.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        language = supported_language(tag)
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def language_of(lang: str | None, accept_language: str | None, default: str) -> str:
    """The language of a request whose ``?lang=`` and ``Accept-Language`` are these."""
    chosen = supported_language(lang) if lang else None
    if chosen is None and accept_language:
        chosen = parse_accept_language(accept_language)
    return chosen or default


def request_language(request: Request) -> str:
    lang = None
    if request.scope.get("query_string"):  # skip parsing on the polling path's bare URL
        lang = request.query_params.get("lang")
    settings = getattr(request.app.state, "settings", None)
    default = settings.default_language if settings is not None else "zh-CN"
    return language_of(lang, request.headers.get("accept-language"), default)
