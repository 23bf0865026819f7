"""/api/v1/employees/{id}/templates: enrol an employee's face templates centrally (for 1:1 selfie checks)."""

import base64
import binascii

import sqlalchemy as sa
from fastapi import APIRouter, Request, status

from central_server.api.deps import Conn, ItStaffOrHead, check_employee_access
from central_server.attendance.face_templates import (
    enrol_photos,
    remove_templates,
    template_rows,
)
from central_server.attendance.schemas import TemplatePhotos, TemplatesPublic
from central_server.errors import Invalid
from edge_models.opencv_runtime import BadFrame, decode_image

router = APIRouter(prefix="/api/v1/employees", tags=["templates"])


def decode_photos(photos_b64: list[str]) -> list:
    """Pixels of every photo, or 422 naming the first bad one (nothing is stored then)."""
    images = []
    for i, b64 in enumerate(photos_b64):
        try:
            images.append(decode_image(base64.b64decode(b64, validate=True)))
        except (binascii.Error, ValueError) as e:  # BadFrame is a ValueError too
            what = str(e) if isinstance(e, BadFrame) else f"not valid base64: {e}"
            raise Invalid(f"photos_b64[{i}]: {what}") from e
    return images


def _listing(conn: sa.Connection, employee_id: str, added: list[int]) -> dict:
    return {"employee_id": employee_id, "added": added,
            "templates": [{"template_no": r.template_no, "model_version": r.model_version,
                           "created_at": r.created_at} for r in template_rows(conn, employee_id)]}


@router.post("/{employee_id}/templates", status_code=status.HTTP_201_CREATED, response_model=TemplatesPublic,
             responses={422: {"description": "a photo that does not decode or has no / several faces"},
                        503: {"description": "the server's template key file cannot be used"}})
def post_templates(employee_id: str, body: TemplatePhotos, request: Request, conn: Conn, who: ItStaffOrHead) -> dict:
    """Detect, align and embed each photo with the kiosk's models (YuNet + SFace) and store the templates
    AES-256-GCM encrypted under the server's key. The photos themselves are not kept."""
    check_employee_access(conn, who, employee_id)
    images = decode_photos(body.photos_b64)
    added = enrol_photos(conn, employee_id, images, request.app.state.config.templates_key_path, actor=who.label)
    return _listing(conn, employee_id, added)


@router.get("/{employee_id}/templates", response_model=TemplatesPublic)
def get_templates(employee_id: str, conn: Conn, who: ItStaffOrHead) -> dict:
    """Which templates an employee has (numbers and model versions only; never the template values)."""
    check_employee_access(conn, who, employee_id)
    return _listing(conn, employee_id, [])


@router.delete("/{employee_id}/templates", response_model=TemplatesPublic)
def delete_templates(employee_id: str, conn: Conn, who: ItStaffOrHead) -> dict:
    """Remove all of an employee's templates (re-enrolment, or the employee left)."""
    check_employee_access(conn, who, employee_id)
    remove_templates(conn, employee_id, actor=who.label)
    return _listing(conn, employee_id, [])
