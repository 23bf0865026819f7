"""/api/v1/import/employees and /sites: CSV bodies (text/csv), all rows imported or none."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from central_server.api.deps import Conn, SiteManager, StateAdmin
from central_server.errors import TooLarge
from central_server.org.csv_import import (
    EMPLOYEE_COLUMNS,
    MAX_CSV_BYTES,
    SITE_COLUMNS,
    import_employees,
    import_sites,
)
from central_server.org.schemas import ImportResult

router = APIRouter(prefix="/api/v1/import", tags=["import"])

_CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}
ERRORS_DOC = ("On any problem nothing is imported and the answer is 422 with `errors`: one entry per problem "
              "with `row` (the line in the file; the header is row 1), `column` and `message`.")


async def csv_body(request: Request) -> bytes:
    data = await request.body()
    if len(data) > MAX_CSV_BYTES:
        raise TooLarge(f"CSV larger than {MAX_CSV_BYTES} bytes")
    return data


CsvBody = Annotated[bytes, Depends(csv_body)]


@router.post("/employees", response_model=ImportResult, openapi_extra=_CSV_BODY,
             description=f"Columns: {', '.join(EMPLOYEE_COLUMNS)}. {ERRORS_DOC}")
def post_employees(who: SiteManager, conn: Conn, data: CsvBody) -> dict:
    return {"imported": import_employees(conn, data, actor=who.label, site_scope=who.site_id), "errors": []}


@router.post("/sites", response_model=ImportResult, openapi_extra=_CSV_BODY,
             description=f"Columns: {', '.join(SITE_COLUMNS)}. {ERRORS_DOC}")
def post_sites(who: StateAdmin, conn: Conn, data: CsvBody) -> dict:
    return {"imported": import_sites(conn, data, actor=who.label), "errors": []}
