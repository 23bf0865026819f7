"""Sign-in: the form, the session cookie's flags, CSRF on every form, the throttle, logout, homes by role."""

import sqlalchemy as sa

from central_server.db.schema import api_tokens, users
from tests.central_server.web.world import CSRF_RE, LOGINS, PASSWORD, sign_in

HOMES = {"admin": "/state", "do-sehore": "/districts/Sehore", "head-1": "/sites/office-1",
         "warden-1": "/rollcall/hostel-1", "it-1": "/kiosks", "emp-1": "/employees/emp-1"}


def _login_form(client):
    page = client.get("/login")
    assert page.status_code == 200
    return CSRF_RE.search(page.text).group(1)


def test_login_page_has_labelled_fields_and_no_inline_script(client):
    page = client.get("/login")
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_each_role_lands_on_its_home(client):
    for username, home in HOMES.items():
        client.cookies.clear()
        token = _login_form(client)
        r = client.post("/login", data={"csrf": token, "username": username, "password": PASSWORD},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == home, (username, r.headers.get("location"))


def test_session_cookie_is_httponly_strict_and_lasts_as_long_as_the_token(client):
    token = _login_form(client)
    r = client.post("/login", data={"csrf": token, "username": "head-1", "password": PASSWORD},
                    follow_redirects=False)
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("hajiri_session=")][0].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "max-age=28800" in cookie
    assert "secure" not in cookie  # plain http on loopback; https or http.secure_cookies makes it Secure


def test_wrong_password_keeps_the_username_and_says_what_was_wrong(client):
    token = _login_form(client)
    r = client.post("/login", data={"csrf": token, "username": "head-1", "password": "not it at all"})
    assert r.status_code == 401
    assert "Wrong username or password." in r.text and 'value="head-1"' in r.text
    assert "hajiri_session" not in r.cookies


def test_login_without_the_forms_token_is_refused(client):
    _login_form(client)
    r = client.post("/login", data={"csrf": "forged", "username": "head-1", "password": PASSWORD})
    assert r.status_code == 403 and "hajiri_session" not in r.cookies


def test_throttle_answers_429_with_retry_after_after_five_failures(client):
    for _ in range(5):
        token = _login_form(client)
        client.post("/login", data={"csrf": token, "username": "head-1", "password": "wrong password!"})
    token = _login_form(client)
    r = client.post("/login", data={"csrf": token, "username": "head-1", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_next_is_followed_only_within_the_site(client):
    for next_url, expected in (("/sites/office-1?day=2026-11-25", "/sites/office-1?day=2026-11-25"),
                               ("//evil.example/x", "/sites/office-1"), ("https://evil.example", "/sites/office-1")):
        client.cookies.clear()
        token = _login_form(client)
        r = client.post("/login", data={"csrf": token, "username": "head-1", "password": PASSWORD,
                                        "next": next_url}, follow_redirects=False)
        assert r.headers["location"] == expected


def test_a_page_without_a_session_redirects_to_login_with_next(client):
    r = client.get("/sites?view=all", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fsites%3Fview%3Dall"


def test_an_api_token_in_the_cookie_is_not_a_session(client, world):
    from central_server.access.tokens import Role, create_token
    with world.begin() as conn:
        api_token = create_token(conn, Role.STATE_ADMIN, "script")
    client.cookies.set("hajiri_session", api_token)
    r = client.get("/", follow_redirects=False)
    assert r.headers["location"] == "/login"


def test_logout_revokes_the_token_and_needs_the_csrf_field(client, world):
    me = sign_in(client, "head-1")
    assert client.post("/logout", data={}).status_code == 403  # no CSRF field: refused, still signed in
    r = me.post_form("/logout", {}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with world.begin() as conn:
        revoked = conn.execute(sa.select(api_tokens.c.revoked).where(api_tokens.c.label == "login head-1")).scalars()
        assert all(revoked)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_language_is_remembered_on_the_user(client, world):
    me = sign_in(client, "head-1")
    r = me.post_form("/language", {"language": "hi", "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    with world.begin() as conn:
        assert conn.execute(sa.select(users.c.language).where(users.c.username == "head-1")).scalar() == "hi"
    client.cookies.clear()
    page = client.get("/login?lang=hi")
    assert "लॉग इन करें" in page.text and '<html lang="hi">' in page.text


def test_a_page_for_another_role_is_a_403_page_in_html(client):
    sign_in(client, "emp-1")
    r = client.get("/sites")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "Not allowed" in r.text and "Collectorate" not in r.text
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert client.get("/api/v1/no-such").headers["content-type"] == "application/json"


def test_fonts_are_served_by_the_app(client):
    r = client.get("/fonts/NotoSansDevanagari-Regular.ttf")
    assert r.status_code == 200 and r.content[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true")
    assert client.get("/fonts/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_every_login_of_the_world_exists(client, world):
    with world.begin() as conn:
        names = set(conn.execute(sa.select(users.c.username)).scalars())
    assert set(LOGINS) <= names


def test_the_offices_list_shows_only_what_the_role_may_see(client):
    sign_in(client, "do-sehore")
    page = client.get("/sites").text
    assert "जिला शिक्षा कार्यालय, सीहोर" in page and "कन्या छात्रावास, सीहोर" in page
    assert "Collectorate Raisen" not in page
    client.cookies.clear()
    sign_in(client, "head-2")
    page = client.get("/sites").text
    assert "Collectorate Raisen" in page and "सीहोर" not in page
    client.cookies.clear()
    sign_in(client, "emp-1")
    assert client.get("/sites").status_code == 403
