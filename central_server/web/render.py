"""Render a page: one Jinja2 environment (autoescaped, strict), the signed-in user's language and menu, and the
headers every page carries (a CSP that allows only this site's own scripts, styles and fonts)."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from central_server.web.deps import PageUser
from central_server.web.i18n import LANGUAGE_NAMES, N_, Formatter, translations
from central_server.web.menu import home_url, menu_for
from central_server.web.status_marks import mark_for

TEMPLATES = Path(__file__).parent / "templates"
# Role names as people say them (catalog msgids).
ROLE_NAMES = {"state_admin": N_("State admin"), "district_officer": N_("District officer"),
              "office_head": N_("Office head"), "warden": N_("Warden"), "it_staff": N_("IT staff"),
              "employee": N_("Employee")}

# Inline scripts and styles are refused: escaping mistakes cannot run code, and the JS lives in /static.
PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def page_context(request: Request, language: str, user: PageUser | None) -> dict[str, Any]:
    """What every template may use: _ / ngettext, fmt (dates, numbers), mark(status), the user and menu."""
    t = translations(language)
    return {
        "_": t.gettext, "ngettext": t.ngettext, "fmt": Formatter(language), "mark": mark_for, "lang": language,
        "languages": LANGUAGE_NAMES, "role_names": ROLE_NAMES, "user": user, "csrf": user.csrf if user else "",
        "menu": menu_for(user.principal) if user else [], "home": home_url(user.principal) if user else "/login",
        "path": request.url.path, "query": str(request.url.query),
    }


def render_page(request: Request, template: str, user: PageUser | None, *, status_code: int = 200,
                language: str | None = None, **context: Any) -> HTMLResponse:
    """The template rendered for this user (or a signed-out visitor) with PAGE_HEADERS."""
    lang = language or (user.language if user else request.app.state.config.http.language)
    html = environment.get_template(template).render(**page_context(request, lang, user), **context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def render_fragment(request: Request, template: str, user: PageUser, **context: Any) -> HTMLResponse:
    """A piece of a page for live.js to swap in (same context and headers as a page)."""
    return render_page(request, template, user, **context)
