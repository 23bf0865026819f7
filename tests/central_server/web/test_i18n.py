"""The Hindi catalog covers every string of the web app, and numbers and dates read as in India."""

from datetime import date
from pathlib import Path

from babel.messages.extract import extract_from_dir

from central_server.web.i18n import Formatter, catalog_files, translations

WEB = Path(__file__).parents[3] / "central_server" / "web"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def _msgids() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(WEB, METHODS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_has_a_hindi_translation():
    hi = translations("hi")
    missing = sorted(m for m in _msgids() if hi.gettext(m) == m)
    assert not missing, f"add these to central_server/web/locale/hi/LC_MESSAGES/*.po: {missing}"


def test_the_catalog_files_parse_and_no_msgid_is_translated_twice():
    from babel.messages.pofile import read_po
    seen: dict[str, Path] = {}
    for po in catalog_files("hi"):
        with po.open("rb") as f:
            for message in read_po(f, locale="hi"):
                if not message.id:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                assert key not in seen, f"{key!r} is in both {seen[key].name} and {po.name}"
                seen[key] = po


def test_numbers_use_lakh_grouping_and_dates_read_as_in_india():
    hi, en = Formatter("hi"), Formatter("en")
    assert en.number(100000) == "1,00,000" and hi.number(1234567.5) == "12,34,567.5" and en.number(12.0) == "12"
    assert hi.date(date(2026, 12, 3), "long") == "3 दिसंबर 2026"
    assert en.date("2026-12-03") == "03-12-2026"
