"""HTTP helpers for connectors: JSON GETs with retries, paginators, and a REST connector base class.

A vendor connector for a JSON REST API subclasses :class:`RestConnector`, sets ``path`` (under the
settings' ``base_url``), ``records_path`` (the dot path to the list of items in a response) and a
``paginator``, and maps each item to a record in :meth:`RestConnector.record`. The framework's
:class:`HttpClient` does the rest, on urllib3: 429, 5xx and connection errors are retried by
urllib3's ``Retry`` with exponential backoff (or after the server's ``Retry-After``), credentials
are sent only to the API's origin (dropped on a redirect elsewhere), every message is masked, and
the bookmark is sent as ``updated_since``. The built-in ``http`` connector is built on it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import urllib3
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    LocationValueError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util.retry import Retry

from benefits.plugins.connector import UNREADABLE, Connector, ConnectorError, MetricInfo, Timeout
from benefits.plugins.secrets import mask

__all__ = [
    "CursorPaginator",
    "HttpClient",
    "LinkHeaderPaginator",
    "NextLinkPaginator",
    "Page",
    "PageNumberPaginator",
    "Paginator",
    "RestConnector",
    "RestSettings",
    "SinglePage",
    "not_an_object",
    "resolve",
]

SCHEMES = ("http", "https")
MAX_BACKOFF = 16.0
MAX_REDIRECTS = 10
SNIPPET = 200
RETRY_STATUSES = frozenset({429, *range(500, 600)})
MISSING: Any = object()
"""What :func:`resolve` returns for a dot path that is not there."""
TEXT_KEPT = 2000
"""Characters of an item's JSON text kept with its ``unreadable`` record (as the csv connector keeps a line's)."""
_sleep = time.sleep  # one place to wait, so tests can watch the waits
log = logging.getLogger(__name__)


def resolve(data: Any, path: str) -> Any:
    """The value at a dot path (``data.items``, ``rows.0.value``: a number indexes a list), or ``MISSING``."""
    for key in path.split("."):
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return MISSING
    return data


def with_query(url: str, **params: str) -> str:
    """``url`` with each query parameter set to the value given (replacing any it had)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


def shown(url: str) -> str:
    """A URL without any user or password in it."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    return urlunsplit(parts)


def check_url(url: str, error: Callable[[str], Exception] = ValueError) -> None:
    """Raise ``error`` unless ``url`` is an http(s) URL with a host, a valid port and no credentials."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise error(f"{shown(url)} has an invalid port") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise error(f"{shown(url)} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise error("put credentials in `auth:` (with ${NAME} from the environment), not in the URL")


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one when none is written)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


# ---- pages and paginators -----------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One response: the URL it was read from, its headers and its JSON body."""

    url: str
    headers: Mapping[str, str]
    body: Any


class Paginator:
    """Where the pages are: the first page's URL, and the next one's from a page just read."""

    def first(self, url: str) -> str:
        """The URL of the first page; by default ``url`` itself."""
        return url

    def next(self, page: Page, items: list[Any]) -> str | None:
        """The next page's URL (absolute or relative to ``page.url``), or None after the last page."""
        raise NotImplementedError


class SinglePage(Paginator):
    """One request, no pages."""

    def next(self, page: Page, items: list[Any]) -> str | None:
        """None: there is one page."""
        return None


@dataclass(frozen=True)
class NextLinkPaginator(Paginator):
    """The body holds the next page's URL at a dot path (``links.next``); missing, null or empty ends."""

    path: str

    def next(self, page: Page, items: list[Any]) -> str | None:
        """The URL at ``path``."""
        link = resolve(page.body, self.path)
        if link is MISSING or link is None or link == "":
            return None
        if not isinstance(link, str):
            raise ConnectorError(f"{shown(page.url)}: {self.path} is a {type(link).__name__}, not a URL")
        return link


@dataclass(frozen=True)
class CursorPaginator(Paginator):
    """The body holds a token at a dot path (``meta.next_cursor``); the next page is the same URL with
    the token as query parameter ``param``. A missing, null or empty token ends."""

    path: str
    param: str = "cursor"

    def next(self, page: Page, items: list[Any]) -> str | None:
        """The page's URL with ``param`` set to the token."""
        token = resolve(page.body, self.path)
        if token is MISSING or token is None or token == "":
            return None
        return with_query(page.url, **{self.param: str(token)})


class LinkHeaderPaginator(Paginator):
    """The ``Link`` response header names the next page (``<https://...?page=2>; rel="next"``, RFC 8288)."""

    LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
    NEXT = re.compile(r';\s*rel\s*=\s*"?([^";]*)"?', re.IGNORECASE)

    def next(self, page: Page, items: list[Any]) -> str | None:
        """The link whose ``rel`` includes ``next``."""
        for target, params in self.LINK.findall(page.headers.get("Link", "")):
            for rel in self.NEXT.findall(params):
                if "next" in rel.lower().split():
                    return target
        return None


@dataclass(frozen=True)
class PageNumberPaginator(Paginator):
    """Pages numbered by query parameter ``param`` from ``first_page``, read until one has no items."""

    param: str = "page"
    first_page: int = 1

    def first(self, url: str) -> str:
        """``url`` with the first page's number."""
        return with_query(url, **{self.param: str(self.first_page)})

    def next(self, page: Page, items: list[Any]) -> str | None:
        """The following number, unless this page had no items."""
        if not items:
            return None
        number = int(dict(parse_qsl(urlsplit(page.url).query)).get(self.param, self.first_page))
        return with_query(page.url, **{self.param: str(number + 1)})


# ---- requests -------------------------------------------------------------------------------


class _Retry(Retry):
    """urllib3's Retry, counting only failed attempts (not redirects) against ``limit``, and waiting
    through ``_sleep`` with a warning (given to ``report``) before each retry."""

    limit: int = 0
    report: Callable[[Retry, Any, float], None] | None = None

    def new(self, **kw: Any) -> _Retry:
        fresh = super().new(**kw)
        fresh.limit, fresh.report = self.limit, self.report
        return fresh

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> _Retry:
        fresh = super().increment(method, url, response, error, _pool, _stacktrace)
        if sum(1 for h in fresh.history if h.redirect_location is None) > self.limit:
            raise MaxRetryError(
                _pool, url or "", error or ResponseError(f"too many {response and response.status} responses")
            )
        return fresh

    def get_backoff_time(self) -> float:
        """``backoff_factor`` seconds before the first retry, doubling after each, at most ``backoff_max``."""
        failures = sum(1 for h in self.history if h.redirect_location is None)
        return float(min(self.backoff_max, self.backoff_factor * 2 ** max(failures - 1, 0)))

    def sleep(self, response: Any = None) -> None:
        try:
            wait = self.get_retry_after(response) if response is not None and self.respect_retry_after_header else None
        except InvalidHeader:
            wait = None
        delay = wait if wait is not None else self.get_backoff_time()
        if self.report is not None:
            self.report(self, response, delay)
        _sleep(delay)


class HttpClient:
    """GETs JSON for a connector: retries, credentials for one origin only, and masked messages.

    ``credentials`` are headers (e.g. ``Authorization``) sent only to the scheme, host and port of
    ``url`` and dropped on a redirect elsewhere; ``secrets`` are masked in every message, as are the
    credential values. 429, 5xx, connection errors and timeouts are retried ``retries`` times,
    ``backoff`` seconds after the first failure, doubling, at most 16 s, or after ``Retry-After``.
    Proxies come from the usual ``https_proxy``/``no_proxy`` environment variables.
    """

    def __init__(
        self,
        url: str,
        *,
        credentials: Mapping[str, str] | None = None,
        secrets: Iterable[str | None] = (),
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 1.0,
    ) -> None:
        self.url = url
        self.credentials = dict(credentials or {})
        # an `Authorization: Bearer <token>` header masks as `Bearer ***`: the scheme is no secret
        sent = [
            v.split(" ", 1)[1] if k.lower() == "authorization" and " " in v else v for k, v in self.credentials.items()
        ]
        self.secrets = frozenset(s for s in [*secrets, *sent] if s)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._managers: dict[str | None, urllib3.PoolManager] = {}

    def say(self, message: str) -> str:
        """``message`` with every secret masked."""
        return mask(message, self.secrets)

    def get(self, url: str) -> Page:
        """The JSON body of a GET of ``url``; ConnectorError (one line, masked) when it cannot be had."""
        check_url(url, lambda m: ConnectorError(self.say(m)))
        headers = {"Accept": "application/json", "User-Agent": _user_agent()}
        if origin(url) == origin(self.url):
            headers.update(self.credentials)
        where = f"GET {shown(url)}"
        try:
            response = self._manager(url).request(
                "GET",
                url,
                headers=headers,
                retries=self._retry(where),
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
            )
        except MaxRetryError as exc:
            raise ConnectorError(self.say(f"{where}: {self._problem(exc.reason)}{self._gave_up(exc.reason)}")) from None
        except LocationValueError as exc:
            raise ConnectorError(
                self.say(f"{where}: a redirect to a URL that is not http(s) was refused ({exc})")
            ) from None
        except (ProtocolError, OSError) as exc:
            raise ConnectorError(self.say(f"{where}: {self._problem(exc)}")) from None
        if response.status >= 400:
            gave_up = self._gave_up(None) if response.status in RETRY_STATUSES else ""
            raise ConnectorError(self.say(f"{where}: {self._status(response)}{gave_up}"))
        if 300 <= response.status < 400:
            raise ConnectorError(
                self.say(f"{where}: HTTP {response.status} {response.reason} without a usable Location")
            )
        return Page(urljoin(url, response.geturl() or url), response.headers, self._json(response, where))

    def close(self) -> None:
        """Close every pooled connection."""
        for manager in self._managers.values():
            manager.clear()
        self._managers.clear()

    def _retry(self, where: str) -> _Retry:
        retry = _Retry(
            total=self.retries + MAX_REDIRECTS,
            redirect=MAX_REDIRECTS,
            status_forcelist=RETRY_STATUSES,
            allowed_methods={"GET"},
            backoff_factor=self.backoff,
            backoff_max=MAX_BACKOFF,
            raise_on_status=False,
            respect_retry_after_header=True,
            remove_headers_on_redirect={"Cookie", "Authorization", "Proxy-Authorization", *self.credentials},
        )
        retry.limit = self.retries

        def report(state: Retry, response: Any, delay: float) -> None:
            last = state.history[-1]
            problem = (
                self._status(response) if response is not None and last.error is None else self._problem(last.error)
            )
            attempt = sum(1 for h in state.history if h.redirect_location is None)
            log.warning("%s", self.say(f"{where}: {problem}; retry {attempt} of {self.retries} in {delay:g} s"))

        retry.report = report
        return retry

    def _gave_up(self, reason: Any) -> str:
        if isinstance(reason, ResponseError) and "redirect" in str(reason):
            return ""
        attempts = self.retries + 1
        return f" (gave up after {'1 attempt' if attempts == 1 else f'{attempts} attempts'})"

    def _manager(self, url: str) -> urllib3.PoolManager:
        parts = urlsplit(url)
        proxy = urllib.request.getproxies().get(parts.scheme)
        if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
            proxy = None
        if proxy not in self._managers:
            self._managers[proxy] = urllib3.ProxyManager(proxy) if proxy else urllib3.PoolManager()
        return self._managers[proxy]

    def _status(self, response: Any) -> str:
        """``HTTP 503 Service Unavailable: <start of the body>``, masked before it is cut short."""
        text = mask(" ".join(bytes(response.data or b"").decode("utf-8", "replace").split()), self.secrets)
        snippet = f": {text[:SNIPPET]}{'…' if len(text) > SNIPPET else ''}" if text else ""
        return f"HTTP {response.status} {response.reason}{snippet}"

    def _problem(self, error: Any) -> str:
        if isinstance(error, ResponseError):
            return "too many redirects" if "redirect" in str(error) else str(error)
        cause = error.__cause__ if isinstance(error, NewConnectionError) else error
        if isinstance(cause, ConnectionRefusedError) or "Connection refused" in str(error):
            return "connection refused"
        if isinstance(error, ReadTimeoutError | ConnectTimeoutError | TimeoutError):  # NewConnectionError is one too
            return f"no response within {self.timeout:g} s"
        text = str(error) or type(error).__name__
        return f"connection failed ({' '.join(text.split())})"

    def _json(self, response: Any, where: str) -> Any:
        """The body as JSON, each number Python cannot hold (and NaN, Infinity) kept as the text the API wrote."""
        try:
            return json.loads(response.data, parse_int=_json_int, parse_float=_json_float, parse_constant=str)
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            content_type = (response.headers.get("Content-Type") or "no content type").split(";")[0].strip()
            raise ConnectorError(self.say(f"{where}: the response is not JSON ({content_type}: {reason})")) from None


def _json_int(text: str) -> int | str:
    """A JSON integer; one of more digits than Python reads (4,300) stays text, for validation to call it not a
    finite number (it failed the whole response as "not JSON" with Python's advice before)."""
    try:
        return int(text)
    except ValueError:
        return text


def _json_float(text: str) -> float | str:
    """A JSON number with a fraction or exponent; one too large for a float (``1e400``) stays text, as a csv cell
    would, rather than becoming ``inf``."""
    value = float(text)
    return value if math.isfinite(value) else text


def not_an_object(item: Any) -> dict[str, Any]:
    """The ``unreadable`` record of an item that is not a JSON object (``"text"``, ``42``, ``null``, a list): the
    reason, and the item as the JSON text the API sent (at most :data:`TEXT_KEPT` characters), so the quarantine
    keeps it verbatim rather than as a record of nulls."""
    text = json.dumps(item, ensure_ascii=False)
    if len(text) > TEXT_KEPT:
        text = f"{text[:TEXT_KEPT]}… ({len(text) - TEXT_KEPT:,} more characters)"
    return {UNREADABLE: f"not a JSON object but {_json_kind(item)}", "text": text}


def _json_kind(item: Any) -> str:
    """What a JSON value is, in JSON's words: ``a string``, ``a number``, ``null``."""
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "true or false"
    if isinstance(item, int | float):
        return "a number"
    if isinstance(item, str):
        return "a string"
    return "an array" if isinstance(item, list) else f"a {type(item).__name__}"


# ---- the REST connector base ----------------------------------------------------------------


class RestSettings(BaseModel):
    """Settings most REST connectors need; subclass it to add your own."""

    model_config = ConfigDict(extra="forbid")
    base_url: str = Field(min_length=1, description="The API's root URL, e.g. `https://api.example.com/v1`.")
    token: SecretStr | None = Field(
        None, description="A bearer token; write `${NAME}` to read it from the environment."
    )
    timeout: Timeout = Field(
        30.0, description="Seconds to wait for a connection, and for data, per request (at most 86400, a day)."
    )
    retries: int = Field(5, ge=0, le=20, description="Retries of a request after 429, 5xx or a connection error.")
    backoff: float = Field(
        1.0, ge=0, allow_inf_nan=False, description="Seconds before the first retry; doubles each time, at most 16."
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        check_url(url)
        return url


class RestConnector(Connector):
    """Base class of a connector that reads a JSON REST API, page by page.

    Declare ``type``, ``Settings`` (a :class:`RestSettings` subclass, or any model with a
    ``base_url``; ``timeout``, ``retries`` and ``backoff`` are read when it has them), ``path``
    (appended to ``base_url``), ``records_path`` and ``paginator``; override :meth:`record` to map
    an item to a record. The bookmark is sent as
    query parameter ``bookmark_param`` (``updated_since=2026-11-16``); set it to None for an API that
    cannot filter.
    """

    path: ClassVar[str] = ""
    records_path: ClassVar[str] = ""
    """Dot path to the list of items in a response body; empty when the body is the list."""
    bookmark_param: ClassVar[str | None] = "updated_since"
    paginator: Paginator = SinglePage()
    incremental = True
    max_pages: int = 10_000

    def url(self) -> str:
        """The first page's URL: ``base_url`` + ``path``, with :meth:`params` and the bookmark as its query."""
        base: str = getattr(self.settings, "base_url")  # noqa: B009 - any Settings with a base_url will do
        url = base.rstrip("/") + "/" + self.path.lstrip("/") if self.path else base
        params = self.params()
        bookmark = self.context.bookmark
        if self.bookmark_param and bookmark is not None:
            params[self.bookmark_param] = bookmark.isoformat()
        return with_query(url, **params) if params else url

    def params(self) -> dict[str, str]:
        """Query parameters of the first page (besides the bookmark); none by default."""
        return {}

    def credentials(self) -> dict[str, str]:
        """Headers sent to the API's origin only: ``Authorization: Bearer <token>`` when a ``token`` is set."""
        token = getattr(self.settings, "token", None)
        return {"Authorization": f"Bearer {token.get_secret_value()}"} if token is not None else {}

    def client(self) -> HttpClient:
        """An :class:`HttpClient` for this connector's API (made in ``check``/``records``, never ``__init__``)."""
        settings = self.settings
        return HttpClient(
            self.url(),
            credentials=self.credentials(),
            secrets=self.secrets,
            timeout=getattr(settings, "timeout", 30.0),
            retries=getattr(settings, "retries", 5),
            backoff=getattr(settings, "backoff", 1.0),
        )

    def record(self, item: Any) -> dict[str, Any]:
        """The record for one item; by default the item itself (an API that already speaks the contract), and an
        item that is not a JSON object the ``unreadable`` record of :func:`not_an_object`."""
        return dict(item) if isinstance(item, dict) else not_an_object(item)

    def check(self) -> None:
        """Fetch the first page and find its list of items."""
        client = self.client()
        try:
            self.items(client.get(self.paginator.first(client.url)), client)
        finally:
            client.close()

    def discover(self) -> list[MetricInfo]:
        """Each distinct (metric, unit) of the records, in order of first appearance."""
        seen: dict[tuple[str, str], None] = {}
        for record in self.records():
            metric, unit = record.get("metric"), record.get("unit")
            if _filled(metric) and _filled(unit):
                seen.setdefault((str(metric), str(unit)), None)
        return [MetricInfo(metric, unit) for metric, unit in seen]

    def records(self) -> Iterator[dict[str, Any]]:
        """One record per item of every page."""
        client = self.client()
        try:
            for page in self.pages(client):
                for item in self.items(page, client):
                    yield self.record(item)
        finally:
            client.close()

    def pages(self, client: HttpClient) -> Iterator[Page]:
        """Every page, following ``paginator``; a loop or more than ``max_pages`` pages is an error."""
        url = self.paginator.first(client.url)
        seen = {url}
        for _ in range(self.max_pages):
            page = client.get(url)
            yield page
            link = self.paginator.next(page, self.items(page, client))
            if link is None:
                return
            following = urljoin(page.url, link)
            check_url(following, lambda m: ConnectorError(client.say(m)))
            if following in seen:
                raise ConnectorError(client.say(f"{shown(url)}: the next page is {shown(following)} again (a loop)"))
            seen.add(following)
            url = following
        raise ConnectorError(client.say(f"{shown(client.url)}: more than max_pages={self.max_pages} pages"))

    def items(self, page: Page, client: HttpClient) -> list[Any]:
        """The list of items at ``records_path`` in a page (a null list is an empty page)."""
        items = resolve(page.body, self.records_path) if self.records_path else page.body
        if items is MISSING:
            body = page.body
            keys = ", ".join(map(str, body)) if isinstance(body, dict) else f"a {type(body).__name__}"
            raise ConnectorError(
                client.say(
                    f"{shown(page.url)}: no {self.records_path!r} in the response (it has: "
                    f"{keys or 'nothing'}); set `records_path` to the dot path of the list of items"
                )
            )
        if items is None:
            return []
        if not isinstance(items, list):
            where = repr(self.records_path) if self.records_path else "the response"
            raise ConnectorError(
                client.say(f"{shown(page.url)}: {where} is a {type(items).__name__}, not a list of items")
            )
        return items


def _user_agent() -> str:
    from benefits import __version__

    return f"benefits/{__version__}"


def _filled(value: Any) -> bool:
    return not (value is None or (isinstance(value, str) and not value.strip()))
