"""/api/v1/auth: password login for a short-lived bearer token (throttled), logout; /api/v1/users for admins."""


from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from central_server.access.login import LoginFailed, LoginThrottled, ThrottlePolicy, login
from central_server.access.schemas import LoginIssued, LoginRequest, UserCreate, UserPublic
from central_server.access.tokens import revoke_token
from central_server.access.users import create_user, set_disabled
from central_server.api.deps import Anyone, Conn, StateAdmin, bearer_token, request_clock
from central_server.http.limits import client_address

router = APIRouter(tags=["auth"])


def _policy(request: Request) -> ThrottlePolicy:
    access = request.app.state.config.access
    return ThrottlePolicy(access.max_failures_per_user, access.max_failures_per_ip, access.failure_window_s)


@router.post("/api/v1/auth/login", response_model=LoginIssued,
             responses={401: {"description": "wrong username or password (one message for both)"},
                        429: {"description": "too many failures for this username or address; see Retry-After"}})
def post_login(body: LoginRequest, request: Request, conn: Conn):
    """No token needed. Returns a bearer token that expires (access.login_token_ttl_s, default 8 h)."""
    client_ip = client_address(request, request.app.state.trusted_proxies)
    try:
        return login(conn, body.username, body.password, client_ip, now=request_clock(request),
                     policy=_policy(request), token_ttl_s=request.app.state.config.access.login_token_ttl_s)
    # Answered, not raised: a raised error would roll back the attempt row the throttle counts.
    except LoginThrottled as e:
        return JSONResponse({"detail": str(e)}, status.HTTP_429_TOO_MANY_REQUESTS,
                            headers={"Retry-After": str(e.retry_after_s)})
    except LoginFailed as e:
        return JSONResponse({"detail": str(e)}, status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


@router.post("/api/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def post_logout(request: Request, conn: Conn, who: Anyone) -> None:
    """Revoke the token this request carries."""
    revoke_token(conn, bearer_token(request), actor=who.label, why="logout")


@router.post("/api/v1/users", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def post_user(body: UserCreate, conn: Conn, who: StateAdmin) -> dict:
    return create_user(conn, body.username, body.password, body.role, actor=who.label, site_id=body.site_id,
                       district=body.district, employee_id=body.employee_id)


@router.post("/api/v1/users/{username}/disabled", status_code=status.HTTP_204_NO_CONTENT)
def post_user_disabled(username: str, disabled: bool, conn: Conn, who: StateAdmin) -> None:
    """Disable (?disabled=true) or re-enable a user; their tokens already issued are revoked on disable."""
    set_disabled(conn, username, disabled, actor=who.label)
