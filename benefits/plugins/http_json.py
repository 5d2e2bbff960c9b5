"""The built-in ``http`` connector: observations from a JSON REST API, page by page.

Each page is fetched with a GET (stdlib ``urllib``); ``records_path`` is the dot path to the list
of items in the body, and ``mapping`` the dot path of each record field within an item. Pages
follow a next-page link in the body (``next_path``) or a page-number query parameter
(``page_param``, until a page has no items). 429, 5xx and connection errors are retried with
exponential backoff (``backoff`` seconds, doubling, at most 16 s) or after the server's
``Retry-After``. Credentials (``auth``, ``headers``) are secret settings, best filled from the
environment by the framework (``${NAME}``); they are sent only to the configured URL's origin and
are masked in every error and log message.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from benefits.plugins.connector import RECORD_FIELDS, Connector, ConnectorError, MetricInfo
from benefits.plugins.hookspecs import hookimpl
from benefits.plugins.secrets import mask

__all__ = ["BasicAuth", "BearerAuth", "FieldMapping", "HttpConnector", "HttpSettings"]

SCHEMES = ("http", "https")
MAX_BACKOFF = 16.0
SNIPPET = 200
_MISSING = object()
_sleep = time.sleep  # one place to wait, so tests can watch the waits
log = logging.getLogger(__name__)


class FieldMapping(BaseModel):
    """The dot path, within one item, of each record field."""

    model_config = ConfigDict(extra="forbid")
    metric: str = Field("metric", min_length=1)
    period: str = Field("period", min_length=1)
    value: str = Field("value", min_length=1)
    unit: str = Field("unit", min_length=1)


class BearerAuth(BaseModel):
    """``Authorization: Bearer <token>``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["bearer"]
    token: SecretStr = Field(min_length=1, description="The token; write `${NAME}` to read it from the environment.")


class BasicAuth(BaseModel):
    """HTTP basic authentication."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["basic"]
    username: str = Field(min_length=1)
    password: SecretStr = Field(description="The password; write `${NAME}` to read it from the environment.")


class HttpSettings(BaseModel):
    """Settings of the http connector."""

    model_config = ConfigDict(extra="forbid")
    url: SecretStr = Field(min_length=1, description="The first page's URL (http or https; secret, as it may carry a key).")
    records_path: str = Field("", description="Dot path to the list of items in the body; empty when the body is the list.")
    mapping: FieldMapping = FieldMapping()
    metric: str | None = Field(None, min_length=1, description="The metric of every item that has none.")
    unit: str | None = Field(None, min_length=1, description="The unit of every item that has none.")
    next_path: str | None = Field(None, min_length=1, description="Dot path to the next page's URL in the body.")
    page_param: str | None = Field(None, min_length=1, description="Query parameter that numbers the pages.")
    first_page: int = Field(1, ge=0, description="The number of the first page, with `page_param`.")
    max_pages: int = Field(10_000, ge=1, description="Stop with an error after this many pages.")
    auth: Annotated[BearerAuth | BasicAuth, Field(discriminator="type")] | None = None
    headers: dict[str, SecretStr] = Field({}, description="Extra request headers (secret); values may hold `${NAME}`.")
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for a connection or for data.")
    retries: int = Field(5, ge=0, le=20, description="Retries of a request after 429, 5xx or a connection error.")
    backoff: float = Field(1.0, ge=0, description="Seconds before the first retry; doubles each time, at most 16.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: SecretStr) -> SecretStr:
        _check_url(url.get_secret_value(), ValueError)
        return url

    @model_validator(mode="after")
    def _one_way_to_paginate(self) -> HttpSettings:
        if self.next_path and self.page_param:
            raise ValueError("set either next_path or page_param, not both")
        return self


@dataclass(frozen=True)
class _Client:
    """The first URL, the credential headers, and every value to mask."""

    url: str
    credentials: dict[str, str]
    secrets: frozenset[str]


class HttpConnector(Connector):
    """Reads observations from a JSON API, following its pages."""

    type: ClassVar[str] = "http"
    Settings = HttpSettings
    settings: HttpSettings

    def check(self) -> None:
        """Fetch the first page and find the list of items at ``records_path``."""
        client = self._client()
        self._items(self._get(client.url, client), client.url, client)

    def discover(self) -> list[MetricInfo]:
        """Each distinct (metric, unit) of the items, in order of first appearance."""
        seen: dict[tuple[str, str], None] = {}
        for record in self.records():
            metric, unit = record["metric"], record["unit"]
            if not _blank(metric) and not _blank(unit):
                seen.setdefault((str(metric), str(unit)), None)
        return [MetricInfo(metric, unit) for metric, unit in seen]

    def records(self) -> Iterator[dict[str, Any]]:
        """One record per item of every page."""
        client = self._client()
        for items in self._pages(client):
            for item in items:
                yield self._record(item)

    # ---- pages ----------------------------------------------------------------------------

    def _pages(self, client: _Client) -> Iterator[list[Any]]:
        settings = self.settings
        if settings.page_param:
            for page in range(settings.first_page, settings.first_page + settings.max_pages):
                url = _with_query(client.url, settings.page_param, str(page))
                items = self._items(self._get(url, client), url, client)
                if not items:
                    return
                yield items
        else:
            url, seen = client.url, {client.url}
            for _ in range(settings.max_pages):
                body = self._get(url, client)
                yield self._items(body, url, client)
                if not settings.next_path:
                    return
                link = _resolve(body, settings.next_path)
                if link is _MISSING or link is None or link == "":
                    return
                if not isinstance(link, str):
                    raise ConnectorError(self._say(f"{_shown(url)}: {settings.next_path} is a {type(link).__name__}, not a URL", client))
                following = urljoin(url, link)
                _check_url(following, ConnectorError, client.secrets)
                if following in seen:
                    raise ConnectorError(self._say(f"{_shown(url)}: the next page is {_shown(following)} again (a loop)", client))
                seen.add(following)
                url = following
        raise ConnectorError(self._say(f"{_shown(client.url)}: more than max_pages={settings.max_pages} pages", client))

    def _items(self, body: Any, url: str, client: _Client) -> list[Any]:
        path = self.settings.records_path
        items = _resolve(body, path) if path else body
        if items is _MISSING:
            keys = ", ".join(map(str, body)) if isinstance(body, dict) else f"a {type(body).__name__}"
            raise ConnectorError(self._say(f"{_shown(url)}: no {path!r} in the response (it has: {keys or 'nothing'}); "
                                           "set `records_path` to the dot path of the list of items", client))
        if items is None:
            return []
        if not isinstance(items, list):
            where = repr(path) if path else "the response"
            raise ConnectorError(self._say(f"{_shown(url)}: {where} is a {type(items).__name__}, not a list of items", client))
        return items

    def _record(self, item: Any) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for field in RECORD_FIELDS:
            value = _resolve(item, getattr(self.settings.mapping, field))
            if value is _MISSING:
                value = getattr(self.settings, field, None)
            record[field] = value
        return record

    # ---- requests -------------------------------------------------------------------------

    def _client(self) -> _Client:
        settings = self.settings
        credentials = {name: value.get_secret_value() for name, value in settings.headers.items()}
        secrets = set(self.secrets) | set(credentials.values())
        if isinstance(settings.auth, BearerAuth):
            token = settings.auth.token.get_secret_value()
            credentials["Authorization"] = f"Bearer {token}"
            secrets.add(token)
        elif isinstance(settings.auth, BasicAuth):
            password = settings.auth.password.get_secret_value()
            pair = base64.b64encode(f"{settings.auth.username}:{password}".encode()).decode("ascii")
            credentials["Authorization"] = f"Basic {pair}"
            secrets |= {password, pair}
        secrets = {s for s in secrets if s}
        return _Client(settings.url.get_secret_value(), credentials, frozenset(secrets))

    def _get(self, url: str, client: _Client) -> Any:
        """The JSON body of a GET, retrying 429, 5xx and connection errors."""
        attempts = self.settings.retries + 1
        opener = urllib.request.build_opener(_Redirects())
        shown = _shown(url)
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": _user_agent()})
            if _origin(url) == _origin(client.url):
                for name, value in client.credentials.items():
                    request.add_unredirected_header(name, value)
            wait: float | None = None
            try:
                with opener.open(request, timeout=self.settings.timeout) as response:
                    body = response.read()
                    content_type = response.headers.get_content_type()
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code} {exc.reason}{_snippet(exc, client.secrets)}"
                if exc.code != 429 and exc.code < 500:
                    raise ConnectorError(self._say(f"GET {shown}: {problem}", client)) from None
                wait = _retry_after(exc.headers)
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
                problem = _connection_problem(exc, self.settings.timeout)
            else:
                return self._json(body, content_type, shown, client)
            if attempt == attempts:
                tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
                raise ConnectorError(self._say(f"GET {shown}: {problem} (gave up after {tries})", client))
            delay = wait if wait is not None else min(self.settings.backoff * 2 ** (attempt - 1), MAX_BACKOFF)
            log.warning("%s", self._say(f"GET {shown}: {problem}; retry {attempt} of {attempts - 1} in {delay:g} s", client))
            _sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, body: bytes, content_type: str, shown: str, client: _Client) -> Any:
        try:
            return json.loads(body)
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise ConnectorError(self._say(f"GET {shown}: the response is not JSON ({content_type}: {reason})", client)) from None

    def _say(self, message: str, client: _Client) -> str:
        return mask(message, client.secrets)


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only; credentials follow only within the same origin."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: http.client.HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        target = urljoin(req.full_url, newurl)
        if urlsplit(target).scheme not in SCHEMES:
            raise urllib.error.HTTPError(req.full_url, code, f"{msg}: redirect to a non-HTTP URL refused", headers, fp)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(target) == _origin(req.full_url):
            for name, value in req.unredirected_hdrs.items():
                if name != "Host":
                    new.add_unredirected_header(name, value)
        return new


def _check_url(url: str, error: type[Exception], secrets: frozenset[str] | set[str] = frozenset()) -> None:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise error(mask(f"{_shown(url)} has an invalid port", secrets)) from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise error(mask(f"{_shown(url)} is not an http(s) URL", secrets))
    if parts.username is not None or parts.password is not None:
        raise error("put credentials in `auth:` (with ${NAME} from the environment), not in the URL")


def _shown(url: str) -> str:
    """A URL without any user or password in it."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    return urlunsplit(parts)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _with_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _resolve(data: Any, path: str) -> Any:
    """The value at a dot path (``data.items``, ``rows.0.value``), or _MISSING."""
    for key in path.split("."):
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return _MISSING
    return data


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None."""
    value = (headers.get("Retry-After") if headers is not None else None) or ""
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _connection_problem(exc: BaseException, timeout: float) -> str:
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"no response within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, BaseException):
        text = str(reason) or type(reason).__name__
        return f"connection failed ({' '.join(text.split())})"
    return f"connection failed ({reason})"


def _snippet(exc: urllib.error.HTTPError, secrets: frozenset[str]) -> str:
    """The start of an error response's body, on one line, masked before it is cut short."""
    try:
        body = exc.read(16 * SNIPPET)
    except Exception:  # noqa: BLE001 - the body is a courtesy
        return ""
    finally:
        exc.close()
    text = mask(" ".join(body.decode("utf-8", "replace").split()), secrets)
    if not text:
        return ""
    return f": {text[:SNIPPET]}{'…' if len(text) > SNIPPET else ''}"


def _user_agent() -> str:
    from benefits import __version__

    return f"benefits/{__version__}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The http connector."""
    return [HttpConnector]
