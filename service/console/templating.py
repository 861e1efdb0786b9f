"""Rendering a console page: the Jinja2 environment, the page's language and its headers.

Every page gets ``t`` (a text of the tables in the page's language), ``lang``, ``viewer``
(who is signed in, or None), ``csrf_token`` and ``path``. Answers carry a
Content-Security-Policy that allows scripts, styles and images from this origin only (no
inline script or style: SVG is coloured by presentation attributes and classes).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from emission_list.i18n import Text, pick
from service.api.language import request_language, supported_language
from service.console import csrf
from service.console.texts import texts

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANGUAGE_COOKIE = "haze_lang"
POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(("html", "svg", "xml")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_language(request: Request) -> str:
    """``?lang=``, else the language chosen in the console (a cookie), else the request's."""
    chosen = None
    if request.scope.get("query_string"):
        chosen = supported_language(request.query_params.get("lang", ""))
    if chosen is None:
        chosen = supported_language(request.cookies.get(LANGUAGE_COOKIE, ""))
    return chosen or request_language(request)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` in the request's language, with the console's headers."""
    language = page_language(request)
    table = texts()

    def t(key: str, **values: object) -> str:
        return table.say(key, language, **values)

    def tr(value: Text | str | None) -> str:  # a stored bilingual text, or a plain one
        if value is None:
            return ""
        return value if isinstance(value, str) else pick(value, language)

    values = {
        "request": request,
        "t": t,
        "tr": tr,
        "lang": language,
        "viewer": request.scope.get("haze.viewer"),
        "csrf_token": csrf.token_of(request),
        "path": request.url.path,
        "query": request.url.query,
    }
    body = environment.get_template(template).render(values | dict(context or {}))
    answer = HTMLResponse(body, status_code=status, headers=PAGE_HEADERS | dict(headers or {}))
    csrf.set_binding(request, answer)
    return answer
