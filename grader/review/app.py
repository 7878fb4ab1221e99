"""The review web application (Starlette): pages by question, one JSON endpoint that records decisions.

Security, since every answer is a student's text:

- access: a random token, given once in the address `grade review` prints
  (`/?token=…`), exchanged for an HttpOnly, SameSite=Strict cookie; any
  request with neither (nor an `Authorization: token …` header) gets 403;
  the Host header must be the loopback (no DNS rebinding);
- decisions: only `POST /api/decide` with a JSON body and the page's CSRF
  token in `X-CSRF-Token`, from this origin;
- display: Jinja2 with autoescaping, answers inside `<pre>` as text; the
  script is a static file and touches answers through `textContent` only;
- a Content-Security-Policy that allows nothing but this server (no inline
  script, no other host), so even markup that slipped through could not run
  or fetch.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from .store import Batch, BatchError, submission_name
from .views import agreed, item_page, num, progress

HERE = Path(__file__).parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the address may carry the token
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
REFUSED = "403: this review needs its access token; open the address `grade review` printed.\n"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(token: str) -> str:
    """The token a page's own requests carry: derived from the access token, never the token itself."""
    return hmac.new(token.encode(), b"grader-review-csrf", hashlib.sha256).hexdigest()


class Guard:
    """ASGI middleware: security headers on every response; the token on every request."""

    def __init__(self, app: ASGIApp, token: str, cookie: str):
        self.app, self.token, self.cookie = app, token, cookie

    def _valid(self, value: str | None) -> bool:
        return bool(value) and secrets.compare_digest(value.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
            await send(message)

        request = Request(scope)
        given = request.query_params.get("token")
        if given is not None:
            if not self._valid(given):
                await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send_with_headers)
                return
            # as Jupyter does: the token once in the address, then a cookie; the address loses it
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response = RedirectResponse(scope["path"] + (f"?{query}" if query else ""), status_code=303)
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
            await response(scope, receive, send_with_headers)
            return
        header = request.headers.get("authorization", "")
        if not (self._valid(request.cookies.get(self.cookie)) or (header.startswith("token ") and self._valid(header[6:]))):
            await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def create_app(batch: Batch, token: str, *, cookie: str = "grader_review", hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Starlette:
    """The application over one batch; `token` is required by every request (see the module's docstring)."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(num=num, agreed=agreed)
    templates = Jinja2Templates(env=environment)
    csrf = csrf_token(token)

    def page(request: Request, name: str, **context) -> Response:
        return templates.TemplateResponse(request, name, {"csrf": csrf, "assignment": batch.rubric.title if batch.rubric else batch.assignment_id,
                                                           "assignment_id": batch.assignment_id, "directory": str(batch.directory), **context})

    def index(request: Request) -> Response:  # plain functions run in a thread: a decision being written does not stall a page
        rows = progress(batch.items, batch.reports(), batch.entries())
        return page(request, "index.html", manual=[r for r in rows if r.info.manual], automatic=[r for r in rows if not r.info.manual],
                    overrides=batch.overrides_path.name)

    def item(request: Request) -> Response:
        info = batch.item(request.path_params["item"])
        if info is None:
            return PlainTextResponse(f"404: {batch.assignment_id} has no item {request.path_params['item']!r}\n", status_code=404)
        ids = [i.id for i in batch.items]
        at = ids.index(info.id)
        return page(request, "item.html", page=item_page(info, batch.reports(), batch.entries()),
                    previous=ids[at - 1] if at else None, next=ids[at + 1] if at + 1 < len(ids) else None)

    async def decide(request: Request) -> Response:
        if not secrets.compare_digest(request.headers.get("x-csrf-token", "").encode(), csrf.encode()):
            return JSONResponse({"error": "this request does not come from the review page"}, status_code=403)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "a decision is sent as JSON"}, status_code=415)
        try:
            body = await request.json()
            if not isinstance(body["submissions"], list):
                raise TypeError("submissions is a list")
            item_id, names = str(body["item"]), [str(s) for s in body["submissions"]]
            score, comment = float(body["score"]), str(body.get("comment", ""))
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "a decision needs item, submissions, score (a number) and comment"}, status_code=400)
        if not math.isfinite(score):
            return JSONResponse({"error": "the score must be a number"}, status_code=400)
        try:
            changed = await run_in_threadpool(batch.decide, item_id, names, score, comment)
        except BatchError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        reports = await run_in_threadpool(batch.reports)
        row = next(r for r in progress([batch.item(item_id)], reports, batch.entries()))
        answers = []
        for report in changed:
            result = report.item(item_id)
            answers.append({"submission": submission_name(report), "score": result.score,
                            "max_score": result.max_score, "status": result.status, "comment": result.review_comment or ""})
        return JSONResponse({"decided": len(changed), "answers": answers, "reviewed": row.reviewed, "total": row.total})

    def export(request: Request) -> Response:
        return PlainTextResponse(batch.export(), media_type="text/csv",
                                 headers={"Content-Disposition": f'attachment; filename="{batch.overrides_path.name}"'})

    routes = [
        Route("/", index),
        Route("/item/{item}", item),
        Route("/api/decide", decide, methods=["POST"]),
        Route("/overrides.csv", export),
        Route("/favicon.ico", lambda request: Response(status_code=204)),  # browsers ask for it; nothing to fetch
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)), Middleware(Guard, token=token, cookie=cookie)]
    return Starlette(routes=routes, middleware=middleware)
