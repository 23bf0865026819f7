"""/api/v1/people: the register of who works or lives at each site (names for the attendance views)."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from central_server.access.tokens import Principal, Role
from central_server.api.deps import Conn, check_site_scope, require_roles
from central_server.api.schemas import PersonCreate, PersonPublic
from central_server.db.schema import people
from central_server.org.registry import AlreadyExists, NotRegistered, create_person, list_rows

router = APIRouter(prefix="/api/v1/people", tags=["people"])

Editor = Annotated[Principal, Depends(require_roles(Role.STATE_ADMIN, Role.IT_STAFF, Role.OFFICE_HEAD))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PersonPublic)
def post_person(body: PersonCreate, conn: Conn, who: Editor) -> dict:
    check_site_scope(who, body.site_id)
    try:
        return create_person(conn, body.person_id, body.name, body.site_id, actor=who.label)
    except AlreadyExists as e:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(e)) from e
    except NotRegistered as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(e)) from e


@router.get("", response_model=list[PersonPublic])
def get_people(conn: Conn, who: Editor, site_id: str | None = None) -> list[dict]:
    site_id = check_site_scope(who, site_id)
    where = None if site_id is None else people.c.site_id == site_id
    return list_rows(conn, people, people.c.person_id, where)
