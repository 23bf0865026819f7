"""Domain errors answer with their own status and FastAPI's {"detail": ...} body through the one handler; each
service error says its status by its class."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from central_server.access.tokens import TokenError
from central_server.access.users import NoSuchUser, UserError
from central_server.attendance.checkins import CheckinRejected
from central_server.attendance.day import BadDay, parse_day
from central_server.attendance.explanations import ExplanationError, ExplanationNotFound
from central_server.attendance.face_templates import TemplateError, TemplateKeyError
from central_server.attendance.rollcall import NoCurfew
from central_server.devices.registry import BadPublicKey
from central_server.downlink.keys import DownlinkKeyError, SigningKeyUnusable
from central_server.downlink.publish import PublishRaced
from central_server.downlink.versions import DownlinkError, NoEncKey, NoTargets
from central_server.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    ServerMisconfigured,
    TooLarge,
    Unauthorized,
    Unavailable,
    install_error_handler,
)
from central_server.evidence.review import EvidenceUnreadable
from central_server.field.inspections import InspectionRejected
from central_server.field.tasks import TaskNotFound
from central_server.org.csv_import import ImportFailed, RowError
from central_server.org.geofence import GeofenceError
from central_server.org.sites import AlreadyExists, Missing, NotRegistered, RegistryError
from central_server.reports.period import ReportInputError


def _client(error: Exception) -> TestClient:
    app = FastAPI()
    install_error_handler(app)

    @app.get("/boom")
    def boom() -> None:
        raise error

    return TestClient(app)


@pytest.mark.parametrize(("error", "status"), [
    (Unauthorized("who?"), 401), (Forbidden("not yours"), 403), (NotFound("no such"), 404),
    (Conflict("taken"), 409), (TooLarge("too big"), 413), (Invalid("bad"), 422),
    (ServerMisconfigured("key file"), 500), (Unavailable("later"), 503), (DomainError("plain"), 400),
])
def test_each_status_maps_to_the_detail_body(error, status):
    r = _client(error).get("/boom")
    assert r.status_code == status and r.json() == {"detail": str(error)}


def test_unauthorized_asks_for_a_bearer_token():
    assert _client(Unauthorized("missing")).get("/boom").headers["WWW-Authenticate"] == "Bearer"


def test_a_refused_import_lists_its_rows():
    r = _client(ImportFailed([RowError(2, "site_id", "unknown")])).get("/boom")
    assert r.status_code == 422 and r.json() == {"detail": {"message": "1 problem(s); nothing imported", "errors": [
        {"row": 2, "column": "site_id", "message": "unknown"}]}}


def test_a_refused_field_is_named():
    r = _client(CheckinRejected("selfie_jpeg_b64", "not a JPEG")).get("/boom")
    assert r.status_code == 422 and r.json() == {"detail": "selfie_jpeg_b64: not a JPEG"}


def test_a_bad_day_names_its_parameter():
    with pytest.raises(BadDay, match="^dates: date '2026-02-30' is not a calendar date"):
        parse_day("2026-02-30", "dates")
    with pytest.raises(ValueError, match="^date 'x' is not"):  # still a ValueError for plain callers
        parse_day("x")


@pytest.mark.parametrize(("cls", "status"), [
    (RegistryError, 422), (AlreadyExists, 409), (NotRegistered, 422), (Missing, 404), (BadPublicKey, 422),
    (UserError, 422), (NoSuchUser, 404), (TokenError, 422), (ExplanationError, 409), (ExplanationNotFound, 404),
    (TaskNotFound, 404), (GeofenceError, 422), (NoCurfew, 422), (ReportInputError, 422), (BadDay, 422),
    (DownlinkKeyError, 422), (SigningKeyUnusable, 500), (PublishRaced, 409), (EvidenceUnreadable, 409),
    (TemplateError, 422), (TemplateKeyError, 503), (DownlinkError, 422), (NoTargets, 404), (NoEncKey, 409),
])
def test_service_errors_carry_their_status(cls, status):
    assert issubclass(cls, DomainError) and cls("x").status_code == status
    r = _client(cls("why")).get("/boom")
    assert r.status_code == status and r.json() == {"detail": "why"}


def test_field_errors_carry_422():
    assert InspectionRejected("photo_jpeg_b64", "x").status_code == 422
    assert issubclass(ExplanationNotFound, ExplanationError)  # callers catching the family still catch it
    assert issubclass(SigningKeyUnusable, DownlinkKeyError)
