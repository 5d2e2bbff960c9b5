"""The built-in ``http`` connector: observations from a JSON REST API, page by page, configured in YAML.

It is a :class:`benefits.plugins.http.RestConnector` whose URL, records path, paginator and field
mapping come from its settings: ``records_path`` is the dot path to the list of items in the body,
and ``mapping`` the dot path of each record field within an item. Pages follow a next-page link in
the body (``next_path``), a cursor token (``cursor_path``, sent back as ``cursor_param``), the
``Link`` response header (``link_header``) or a page-number query parameter (``page_param``, until
a page has no items). A value the API sends as text with thousands or decimal marks is read with
``number_format``, as the csv and sql connectors do. Retries, backoff, ``Retry-After`` and
credentials-to-one-origin are the helper's (:class:`benefits.plugins.http.HttpClient`).
Credentials (``auth``, ``headers``) are secret settings, best filled from the environment by the
framework (``${NAME}``), and are masked in every error and log message.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from benefits.plugins.connector import RECORD_FIELDS, Connector, SyncContext, Timeout
from benefits.plugins.hookspecs import hookimpl
from benefits.plugins.http import (
    MISSING,
    CursorPaginator,
    HttpClient,
    LinkHeaderPaginator,
    NextLinkPaginator,
    PageNumberPaginator,
    Paginator,
    RestConnector,
    SinglePage,
    check_url,
    not_an_object,
    resolve,
    with_query,
)
from benefits.plugins.numbers import NumberFormat
from benefits.plugins.secrets import secret_values

__all__ = ["BasicAuth", "BearerAuth", "FieldMapping", "HttpConnector", "HttpSettings"]


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
    url: str = Field(
        min_length=1, description="The first page's URL (http or https; shown in errors, so no key in it)."
    )
    query: dict[str, SecretStr] = Field({}, description="Extra query parameters (secret), e.g. an API key.")
    records_path: str = Field(
        "", description="Dot path to the list of items in the body; empty when the body is the list."
    )
    mapping: FieldMapping = FieldMapping()
    metric: str | None = Field(None, min_length=1, description="The metric of every item that has none.")
    unit: str | None = Field(None, min_length=1, description="The unit of every item that has none.")
    next_path: str | None = Field(None, min_length=1, description="Dot path to the next page's URL in the body.")
    cursor_path: str | None = Field(
        None, min_length=1, description="Dot path to the next page's cursor token in the body."
    )
    cursor_param: str = Field(
        "cursor", min_length=1, description="Query parameter that sends the cursor token, with `cursor_path`."
    )
    link_header: bool = Field(False, description='Follow the `Link: <...>; rel="next"` response header.')
    page_param: str | None = Field(None, min_length=1, description="Query parameter that numbers the pages.")
    bookmark_param: str | None = Field(
        None, min_length=1, description="Query parameter that sends the bookmark (`updated_since`)."
    )
    first_page: int = Field(1, ge=0, description="The number of the first page, with `page_param`.")
    max_pages: int = Field(10_000, ge=1, description="Stop with an error after this many pages.")
    auth: Annotated[BearerAuth | BasicAuth, Field(discriminator="type")] | None = None
    headers: dict[str, SecretStr] = Field({}, description="Extra request headers (secret); values may hold `${NAME}`.")
    timeout: Timeout = Field(30.0, description="Seconds to wait for a connection or for data (at most 86400, a day).")
    retries: int = Field(5, ge=0, le=20, description="Retries of a request after 429, 5xx or a connection error.")
    backoff: float = Field(
        1.0, ge=0, allow_inf_nan=False, description="Seconds before the first retry; doubles each time, at most 16."
    )
    number_format: NumberFormat | None = Field(
        None,
        description="How a value the API sends as text is written, e.g. {thousands: ','}; JSON numbers are never "
        "reformatted.",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        check_url(url)
        return url

    @model_validator(mode="after")
    def _one_way_to_paginate(self) -> HttpSettings:
        chosen = [name for name in ("next_path", "cursor_path", "link_header", "page_param") if getattr(self, name)]
        if len(chosen) > 1:
            raise ValueError(f"set one way to find the next page, not {' and '.join(chosen)}")
        return self


class HttpConnector(RestConnector):
    """Reads observations from a JSON API, following its pages, as its settings say."""

    type: ClassVar[str] = "http"
    Settings = HttpSettings
    settings: HttpSettings

    def __init__(self, name: str, settings: HttpSettings, context: SyncContext) -> None:
        super().__init__(name, settings, context)
        self.paginator = _paginator(settings)
        self.max_pages = settings.max_pages
        self.incremental = settings.bookmark_param is not None

    @property
    def records_path(self) -> str:  # type: ignore[override]  # a setting here, a class attribute in the base
        """The ``records_path`` setting."""
        return self.settings.records_path

    def url(self) -> str:
        """The ``url`` setting with the ``query`` settings, and the bookmark as ``bookmark_param`` when both are set."""
        params = {name: value.get_secret_value() for name, value in self.settings.query.items()}
        bookmark, param = self.context.bookmark, self.settings.bookmark_param
        if param and bookmark is not None:
            params[param] = bookmark.isoformat()
        return with_query(self.settings.url, **params) if params else self.settings.url

    def credentials(self) -> dict[str, str]:
        """The ``headers`` and ``auth`` settings as request headers."""
        settings = self.settings
        headers = {name: value.get_secret_value() for name, value in settings.headers.items()}
        if isinstance(settings.auth, BearerAuth):
            headers["Authorization"] = f"Bearer {settings.auth.token.get_secret_value()}"
        elif isinstance(settings.auth, BasicAuth):
            pair = f"{settings.auth.username}:{settings.auth.password.get_secret_value()}"
            headers["Authorization"] = f"Basic {base64.b64encode(pair.encode()).decode('ascii')}"
        return headers

    def client(self) -> HttpClient:
        """The helper's client, every secret setting (and the encoded basic pair) among its secrets."""
        return HttpClient(
            self.url(),
            credentials=self.credentials(),
            secrets=[*self.secrets, *secret_values(self.settings)],
            timeout=self.settings.timeout,
            retries=self.settings.retries,
            backoff=self.settings.backoff,
        )

    def record(self, item: Any) -> dict[str, Any]:
        """The record fields at their ``mapping`` paths; the constant ``metric``/``unit`` where an item has none; a
        value sent as text in ``number_format`` in plain form. An item that is not a JSON object is held in
        quarantine as its JSON text (:func:`~benefits.plugins.http.not_an_object`)."""
        if not isinstance(item, dict):
            return not_an_object(item)
        record: dict[str, Any] = {}
        for field in RECORD_FIELDS:
            value = resolve(item, getattr(self.settings.mapping, field))
            record[field] = getattr(self.settings, field, None) if value is MISSING else value
        if self.settings.number_format is not None:
            record["value"] = self.settings.number_format.plain(record["value"])
        return record


def _paginator(settings: HttpSettings) -> Paginator:
    if settings.next_path:
        return NextLinkPaginator(settings.next_path)
    if settings.cursor_path:
        return CursorPaginator(settings.cursor_path, settings.cursor_param)
    if settings.link_header:
        return LinkHeaderPaginator()
    if settings.page_param:
        return PageNumberPaginator(settings.page_param, settings.first_page)
    return SinglePage()


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The http connector."""
    return [HttpConnector]
