"""/fonts/*: Debian's Noto fonts (fonts-noto-core) served by the app itself, never from a CDN; /static is
mounted by the app factory."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from central_server.errors import NotFound, Unavailable

router = APIRouter(tags=["web"], include_in_schema=False)

STATIC_DIR = Path(__file__).parent / "static"
NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
# Only these: the page's four faces (not a listing of the system's font folder).
FONTS = ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSansDevanagari-Regular.ttf",
         "NotoSansDevanagari-Bold.ttf")


@router.get("/fonts/{name}")
def get_font(name: str) -> FileResponse:
    """A font file, cached for a day by the browser (fonts are not secret)."""
    if name not in FONTS:
        raise NotFound(f"no font {name!r}")
    path = NOTO_DIR / name
    if not path.is_file():
        raise Unavailable(f"{path} is missing: install Debian's fonts-noto-core (./run does)")
    return FileResponse(path, media_type="font/ttf", headers={"Cache-Control": "public, max-age=86400"})
