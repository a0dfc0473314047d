"""A tiny HTTP client with cookies: fetch pages and sign in as a demo account (CSRF included)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

CSRF_INPUT = re.compile(r"<input[^>]*name=\"csrf_token\"[^>]*>")
VALUE = re.compile(r"value=\"([^\"]*)\"")


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Session:
    """Cookies kept across requests, like a browser tab; redirects are followed."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base_url + "/", path)

    def request(
        self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.url(path), data=body, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(req, timeout=30) as resp:
                return Response(resp.status, resp.headers, resp.read(), resp.geturl())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read(), error.geturl())

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request(path, headers=headers)

    def sign_in(self, email: str, password: str) -> Response:
        """GET the sign-in form for its CSRF token, then POST the credentials."""
        form = self.get("/auth/signin")
        match = CSRF_INPUT.search(form.text)
        token_match = VALUE.search(match.group(0)) if match else None
        data = {"email": email, "password": password}
        if token_match:
            data["csrf_token"] = token_match.group(1)
        response = self.request("/auth/signin", data=data)
        if response.status != 200 or "/dashboard" not in urllib.parse.urlsplit(response.url).path:
            raise RuntimeError(f"sign-in of {email} failed: HTTP {response.status}")
        return response

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def browser_cookies(self, url: str) -> list[dict[str, str]]:
        """The cookies in Playwright's `context.add_cookies` shape, for another origin's URL."""
        return [{"name": c.name, "value": c.value, "url": url} for c in self.jar]
