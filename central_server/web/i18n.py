"""Languages of the web app: the Hindi catalog (gettext .po, Babel conventions) and hi-IN / en-IN formatting."""

import gettext
import io
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("hi", "en")
DEFAULT_LANGUAGE = "en"
# Babel locale per language: Indian grouping (1,00,000) and Indian month names in both.
BABEL_LOCALE = {"hi": "hi_IN", "en": "en_IN"}
LANGUAGE_NAMES = {"hi": "हिन्दी", "en": "English"}


def N_(message: str) -> str:
    """Marks a msgid for extraction where it is translated later, at render (menu labels, status names)."""
    return message


def check_language(value: str | None) -> str | None:
    """The language code if it is one we have, else None (callers fall back to the default)."""
    return value if value in LANGUAGES else None


def catalog_files(language: str) -> list[Path]:
    """A language's .po files: one per part of the app (messages.po, board.po, reports.po …), read as one."""
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog for a language, compiled from its .po files in memory once (no compiled .mo in the repo)."""
    if language == "en":
        return gettext.NullTranslations()  # English is the source language: msgids are the English text
    merged = None
    for po in catalog_files(language):
        with po.open("rb") as f:
            catalog = read_po(f, locale=language)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        part = gettext.GNUTranslations(buf)
        if merged is None:
            merged = part
        else:
            merged.add_fallback(part)
    return merged or gettext.NullTranslations()


class Formatter:
    """Dates, times and numbers as people in an Indian office read them, in one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = BABEL_LOCALE[language]

    def date(self, d: date | str | None, style: str = "short") -> str:
        """short: 03-12-2026; long: 3 दिसंबर 2026; month: दिसंबर 2026; weekday: गुरु."""
        if d is None or d == "":
            return ""
        if isinstance(d, str):
            d = date.fromisoformat(d[:10])
        pattern = {"short": "dd-MM-yyyy", "long": "long", "month": "MMMM y", "weekday": "EEE",
                   "full": "EEEE, d MMMM y"}[style]
        return format_date(d, pattern, locale=self.locale)

    def time(self, t: datetime | None) -> str:
        """24-hour HH:MM (offices and the kiosk read times this way)."""
        return "" if t is None else format_time(t, "HH:mm", locale=self.locale)

    def datetime(self, t: datetime | None) -> str:
        return "" if t is None else format_datetime(t, "dd-MM-yyyy HH:mm", locale=self.locale)

    def number(self, n: float | int | None, digits: int = 1) -> str:
        """Lakh grouping (1,00,000); halves kept (12.5), whole numbers without a decimal point."""
        if n is None:
            return ""
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        return format_decimal(n, format="#,##,##0.#" if digits else "#,##,##0", locale=self.locale)
