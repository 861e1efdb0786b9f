"""Signing in and out, the language switch, and where ``/`` leads a signed-in person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from service.api.deps import RuntimeDep, SessionDep
from service.console import auth
from service.console.templating import LANGUAGE_COOKIE, render
from service.storage.repositories import audit

router = APIRouter(include_in_schema=False)

#: Longest token a sign-in form may carry (a secret is 48 characters).
MAX_TOKEN_CHARS = 200


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/signin")
async def signin_page(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    ended: bool = False,
) -> Response:
    viewer = await auth.current_viewer(request, runtime, session)
    if viewer is not None:
        return RedirectResponse(auth.safe_next(next) or viewer.home, status_code=303)
    notice = "signin.ended" if ended else None
    context = {"next_path": auth.safe_next(next) or "", "problem": None, "notice": notice}
    return render(request, "signin.html", context)


@router.post("/signin")
async def signin(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    token: Annotated[str, Form(max_length=MAX_TOKEN_CHARS)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    secret = token.strip()
    principal = await runtime.auth.principal(secret) if secret else None
    problem = None
    if not secret:
        problem = "signin.missing"
    elif principal is None:
        auth.count_failed_signin(runtime, request)
        problem = "signin.invalid"
    elif principal.role == "station":
        problem = "signin.station"
    if problem is not None:
        status = 403 if problem == "signin.station" else 401 if secret else 422
        context = {"next_path": auth.safe_next(next) or "", "problem": problem, "notice": None}
        return render(request, "signin.html", context, status=status)
    assert principal is not None
    answer = RedirectResponse(auth.safe_next(next) or auth.home_of(principal), status_code=303)
    await auth.open_session(runtime, session, principal, answer, secure=_secure(request))
    await audit.record(session, principal.token_id, "console.signin", f"token/{principal.token_id}")
    return answer


@router.post("/signout")
async def signout(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    viewer = await auth.current_viewer(request, runtime, session)
    answer = RedirectResponse("/signin?ended=true", status_code=303)
    await auth.end_session(session, viewer, answer)
    return answer


@router.get("/language")
async def choose_language(
    to: Annotated[str, Query(max_length=8)] = "zh-CN",
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """Remember the language chosen (a cookie, a year) and go back to the page."""
    language = "en" if to.lower().startswith("en") else "zh-CN"
    answer = RedirectResponse(auth.safe_next(next) or "/", status_code=303)
    answer.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="strict", path="/")
    return answer


@router.get("/start")
async def start(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """A signed-in person's first page; anyone else signs in."""
    viewer = await auth.current_viewer(request, runtime, session)
    return RedirectResponse(viewer.home if viewer else auth.SIGNIN_PATH, status_code=303)
