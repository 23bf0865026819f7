"""/api/v1/people: the register of who works or lives at each site (names for the attendance views)."""

from fastapi import APIRouter, status

from central_server.api.deps import Conn, ItStaffOrHead, check_site_scope
from central_server.org.schemas import PersonCreate, PersonPublic
from central_server.org.sites import create_person, list_people

router = APIRouter(prefix="/api/v1/people", tags=["people"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PersonPublic)
def post_person(body: PersonCreate, conn: Conn, who: ItStaffOrHead) -> dict:
    check_site_scope(who, body.site_id)
    return create_person(conn, body.person_id, body.name, body.site_id, actor=who.label)


@router.get("", response_model=list[PersonPublic])
def get_people(conn: Conn, who: ItStaffOrHead, site_id: str | None = None) -> list[dict]:
    return list_people(conn, check_site_scope(who, site_id))
