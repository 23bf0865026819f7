"""The web app's page routers: every `central_server/web/*_page.py` module with a `router`, in name order
(a new page is a new module; nothing else to edit, so pages built side by side never touch one list)."""

import importlib
import pkgutil
from types import ModuleType

import central_server.web as web_package


def page_modules() -> list[ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules(web_package.__path__) if m.name.endswith("_page"))
    return [importlib.import_module(f"central_server.web.{name}") for name in names]
