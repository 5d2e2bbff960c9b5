"""Checks on requests that can change something, before Dash sees them.

**Cross-site requests are refused (403).** A browser sends a signed-in user's credentials with a
request that another site's page makes, so a page elsewhere could approve a claim in the user's
name (cross-site request forgery). Every POST, PUT, PATCH and DELETE is checked as Go's
``net/http.CrossOriginProtection`` does: a ``Sec-Fetch-Site`` header (sent by every current
browser) must say ``same-origin`` or ``none`` (typed by the user); without it, an ``Origin`` header
must name the host the request was sent to; a request with neither comes from no browser
(``curl``, a script) and passes. Behind a reverse proxy, the proxy must pass the ``Host`` header
through.

**A callback request Dash's renderer would never send is refused (400), not a 500.** The body
of ``/_dash-update-component`` must be a JSON object naming a callback of the app
(``output``), with its ``outputs``, the ``inputs`` and ``state`` it declares (same count, ids and
properties) and ``changedPropIds`` as a list of strings; a URL part is text and a click count an
integer, and a page's path starts with ``/``. Each other value must be of the type its callback's
parameter declares (checked strictly by pydantic: no text where a number is wanted, no list where an
object is), so a right-shaped body carrying a value of the wrong type is a 400 naming the value,
not a 500 from inside the callback. A parameter without a type hint, or typed ``Any``, takes anything;
:data:`IsoDate` and :func:`holding` say more than a type can (a date's text, an object's keys).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeGuard
from urllib.parse import urlsplit

import dash
import flask
import pydantic

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CALLBACK_ROUTE = "_dash-update-component"
#: The value types of the properties a page sends for the URL and for buttons, whatever the component.
_VALUE_TYPES: dict[str, type] = {"pathname": str, "search": str, "hash": str, "href": str, "n_clicks": int}


def _iso_date(text: str) -> str:
    dt.date.fromisoformat(text)  # ValueError: pydantic's message names the value's place
    return text


IsoDate = Annotated[str, pydantic.AfterValidator(_iso_date)]
"""A callback parameter holding a date as ``YYYY-MM-DD`` text (as a ``dcc.Store`` keeps it)."""


def holding(**fields: Any) -> pydantic.AfterValidator:
    """For ``Annotated[dict[str, Any], holding(key=str, as_of=IsoDate)]``: a callback parameter whose object must
    hold these keys, each value of its type (checked strictly); other keys are the callback's to judge."""
    adapters = {name: pydantic.TypeAdapter(kind) for name, kind in fields.items()}

    def check(value: dict[str, Any]) -> dict[str, Any]:
        for name, adapter in adapters.items():
            if name not in value:
                raise ValueError(f"{name} is missing")
            try:
                adapter.validate_python(value[name], strict=True)
            except pydantic.ValidationError as exc:
                raise ValueError(f"{name}: {exc.errors()[0]['msg']}") from None
        return value

    return pydantic.AfterValidator(check)


def install(app: dash.Dash) -> None:
    """Check every request of ``app`` before Dash handles it."""
    callback_path = app.config.requests_pathname_prefix + CALLBACK_ROUTE

    @app.server.before_request
    def _check() -> flask.Response | None:
        request = flask.request
        if request.method not in UNSAFE_METHODS:
            return None
        refused = cross_site(request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin"), request.host)
        if refused:
            return _answer(403, refused)
        if request.path == callback_path:
            problem = callback_problem(request.get_json(silent=True), app.callback_map)
            if problem:
                return _answer(400, f"not a callback request of this dashboard: {problem}")
        return None


def cross_site(site: str | None, origin: str | None, host: str) -> str | None:
    """Why a state-changing request with these ``Sec-Fetch-Site`` and ``Origin`` headers, sent to ``host``, is
    refused; None when it may pass."""
    if site is not None:
        if site in ("same-origin", "none"):
            return None
        return f"a {site} request may not change anything here (Sec-Fetch-Site); use the dashboard's own pages"
    if origin is None:
        return None
    if urlsplit(origin).netloc.lower() != host.lower():
        return f"a request from {origin} may not change anything on {host} (Origin); use the dashboard's own pages"
    return None


def callback_problem(body: object, callbacks: Mapping[str, Any]) -> str | None:
    """What is wrong with ``body`` as a request for one of ``callbacks`` (Dash's callback map); None when nothing."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or "callback" not in callbacks.get(output, {}):  # not there, or in the browser
        return "output names no callback"
    outputs = body.get("outputs")
    if output.startswith(".."):  # several outputs: ..a.children...b.data..
        count = len(output[2:-2].split("..."))
        if not (isinstance(outputs, list) and len(outputs) == count and all(map(_is_prop_or_props, outputs))):
            return f"outputs must be a list of the callback's {count}, each with an id and a property"
    elif not (_is_prop(outputs) or (isinstance(outputs, list) and all(map(_is_prop, outputs)))):
        return "outputs must be an object with an id and a property"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(name, str) for name in changed):
        return "changedPropIds must be a list of strings"
    declared = callbacks[output]
    for part in ("inputs", "state"):
        sent, wanted = body.get(part, []), declared.get(part, [])
        if not isinstance(sent, list) or len(sent) != len(wanted):
            return f"{part} must be a list of the callback's {len(wanted)}"
        if not all(_matches(item, spec) for item, spec in zip(sent, wanted, strict=True)):
            return f"{part} must name the callback's ids and properties, with values of their type"
    return _value_problem([*body.get("inputs", []), *body.get("state", [])], declared["callback"])


def _value_problem(sent: list[Any], callback: Callable[..., Any]) -> str | None:
    """The first sent value (an input or state, in the callback's argument order) that is not of the type the
    callback's parameter declares, in words; None when each is."""
    for item, adapter in zip(sent, _parameter_types(inspect.unwrap(callback), len(sent)), strict=False):
        if adapter is None:
            continue
        one = item[0] if isinstance(item, list) and item else item  # a pattern (ALL): one value per component
        value = [part.get("value") for part in item] if isinstance(item, list) else item.get("value")
        try:
            adapter.validate_python(value, strict=True)
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            where = "".join(f"[{step!r}]" for step in error["loc"])
            return f"{_name(one)}{where}: {error['msg']}"
    return None


@functools.cache
def _parameter_types(function: Callable[..., Any], count: int) -> tuple[pydantic.TypeAdapter[Any] | None, ...]:
    """A validator for each of the ``count`` values the callback receives (None where its parameter takes
    anything); a ``*values`` parameter's type stands for every value after the named ones."""
    hints = typing.get_type_hints(function, include_extras=True)
    adapters: list[pydantic.TypeAdapter[Any] | None] = []
    for parameter in inspect.signature(function).parameters.values():
        hint = hints.get(parameter.name, Any)
        adapter = None if hint is Any else pydantic.TypeAdapter(hint)
        if parameter.kind is parameter.VAR_POSITIONAL:
            adapters.extend([adapter] * (count - len(adapters)))
            break
        adapters.append(adapter)
    return tuple(adapters)


def _name(item: object) -> str:
    """A sent value's component id and property, as the page names them."""
    if not _is_prop(item):
        return "a value"
    ident = item["id"]
    return f"{ident if isinstance(ident, str) else ident.get('name', ident)}.{item['property']}"


def _is_prop(item: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(item, dict) and isinstance(item.get("property"), str) and isinstance(item.get("id"), str | dict)


def _is_prop_or_props(item: object) -> bool:
    """One output, or the list of them that a pattern-matching (ALL) output sends."""
    return _is_prop(item) or (isinstance(item, list) and all(map(_is_prop, item)))


def _matches(item: object, spec: Mapping[str, Any]) -> bool:
    """Whether a sent input or state is the declared one: same property, and the same id (for a pattern, an id
    with the pattern's keys, each a text or number, equal where the pattern is not a wildcard); a URL part or
    click count of the right type."""
    declared = str(spec.get("id", ""))
    if not declared.startswith("{"):
        return _is_prop(item) and item["property"] == spec.get("property") and item["id"] == declared and _typed(item)
    pattern = json.loads(declared)
    sent = item if isinstance(item, list) else [item]
    return all(
        _is_prop(one) and one["property"] == spec.get("property") and _fits(one["id"], pattern) and _typed(one)
        for one in sent
    )


def _fits(ident: object, pattern: dict[str, Any]) -> bool:
    """Whether a component id is one the pattern-matching id ``pattern`` (wildcards as ``["ALL"]``) matches."""
    return (
        isinstance(ident, dict)
        and ident.keys() == pattern.keys()
        and all(
            isinstance(value, str | int | float) and (isinstance(pattern[key], list) or value == pattern[key])
            for key, value in ident.items()
        )
    )


def _typed(item: dict[str, Any]) -> bool:
    wanted, value = _VALUE_TYPES.get(item["property"]), item.get("value")
    if item["property"] == "pathname":  # the page router needs one: the browser always sends it
        return isinstance(value, str) and value.startswith("/")
    return wanted is None or value is None or (isinstance(value, wanted) and not isinstance(value, bool))


def _answer(status: int, reason: str) -> flask.Response:
    return flask.Response(reason + "\n", status=status, mimetype="text/plain")
