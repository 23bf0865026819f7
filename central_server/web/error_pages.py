"""Domain errors on pages: an HTML page in the user's language (403, 404, 422 …), or a redirect to /login
when the session is missing or over. API paths keep their JSON answers."""

from urllib.parse import quote

from fastapi import Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from central_server.errors import DomainError, Unauthorized, domain_error_response
from central_server.web.i18n import N_, translations
from central_server.web.render import PAGE_HEADERS, render_page

API_PREFIXES = ("/api/", "/healthz", "/docs", "/openapi.json", "/dashboard")
TITLES = {401: N_("Please sign in"), 403: N_("Not allowed"), 404: N_("Not found"), 409: N_("Already done"),
          413: N_("Too large"), 422: N_("Please check what you entered"), 500: N_("Server problem"), 503: N_("Not available right now")}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


async def page_error_response(request: Request, exc: Exception) -> Response:
    """As the API's JSON answer for API paths; for pages, a page (or /login for a missing session)."""
    assert isinstance(exc, DomainError)
    if not is_page(request):
        return await domain_error_response(request, exc)
    if isinstance(exc, Unauthorized):
        target = "/login"
        if request.method == "GET":
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target += "?next=" + quote(path, safe="")
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)
    user = getattr(request.state, "page_user", None)
    language = user.language if user else request.app.state.config.http.language
    _ = translations(language).gettext
    title = _(TITLES.get(exc.status_code, N_("Something went wrong")))
    return render_page(request, "error.html", user, status_code=exc.status_code, language=language,
                       title=title, detail=str(exc))


async def page_http_error_response(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such route, wrong method) as a page on page paths, JSON elsewhere."""
    assert isinstance(exc, StarletteHTTPException)
    if not is_page(request) or exc.status_code not in TITLES:
        return await http_exception_handler(request, exc)
    language = request.app.state.config.http.language
    _ = translations(language).gettext
    return render_page(request, "error.html", None, status_code=exc.status_code, language=language,
                       title=_(TITLES[exc.status_code]), detail=_("There is no such page."))
