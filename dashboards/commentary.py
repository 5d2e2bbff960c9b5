"""The benefit page's commentary, actions and risks (``benefits.commentary``): the latest note, the open
actions (overdue ones flagged) and the open risks, and for pmo users (admins too) the forms that add a
note, an action or a risk and close an action or a risk.

A viewer sees the same section without the forms; the callback asks ``require_role("pmo")``, which
answers HTTP 403 to anyone else, so a form rebuilt by hand does not help. Entries are credited to
the signed-in user. The callback is a POST like every Dash callback, so the dashboard's same-origin
and body checks (``benefits.dashboards.posts``) apply before it runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import dash
from dash import Input, Output, State, dcc, html
from sqlalchemy.orm import Session

from benefits.commentary import (
    IMPACT,
    LIKELIHOOD,
    BenefitCommentary,
    add_action,
    add_note,
    add_risk,
    close_action,
    close_risk,
    for_benefit,
)
from benefits.dashboards import components, data
from benefits.dashboards.auth import current_user, require_role
from benefits.dashboards.posts import IsoDate, holding
from benefits.errors import BenefitsError

FORM_STYLE = {"display": "grid", "gap": "8px", "maxWidth": "640px", "marginBottom": "12px"}
ROW_STYLE = {"display": "flex", "gap": "8px", "flexWrap": "wrap"}
OVERDUE_STYLE = {"backgroundColor": "#cf222e", "color": "#ffffff"}
EDITORS = "pmo"
"""The role that may add and close entries (admin holds every role)."""


def section(key: str, as_of: dt.date | None) -> html.Section:
    """The benefit ``key``'s commentary, actions and risks at ``as_of`` (today when None), with the forms
    when the signed-in user may use them."""
    when = as_of or dt.date.today()
    with data.session() as session:
        said = for_benefit(session, key, when)
    return html.Section(
        [
            html.H2("Commentary, actions and risks"),
            dcc.Store(id="commentary-benefit", data={"key": key, "as_of": when.isoformat()}),
            html.Div(shown(said), id="commentary-shown"),
            _forms(said)
            if _may_edit()
            else html.P(
                "Only pmo users can add notes, actions and risks; ask one of them, or an admin.",
                className="message",
                id="commentary-read-only",
            ),
        ],
        id="benefit-commentary",
    )


def shown(said: BenefitCommentary) -> list[Any]:
    """The latest note, the open actions (overdue flagged) and the open risks."""
    note = said.latest_note
    actions = [[a.id, a.text, a.owner, a.due.isoformat(), _state(a.overdue), a.author] for a in said.open_actions]
    risks = [[r.id, r.text, r.rating, r.score, r.mitigation, r.author] for r in said.open_risks]
    return [
        html.P(
            [html.Strong("Latest commentary: "), note.line()] if note else "No commentary yet.",
            id="commentary-latest",
        ),
        html.H3("Open actions"),
        components.table(["No.", "Action", "Owner", "Due", "State", "Raised by"], actions, "commentary-actions")
        if actions
        else html.P("No open actions.", className="message"),
        html.H3("Open risks"),
        components.table(
            ["No.", "Risk", "Likelihood × impact", "Score", "Mitigation", "Raised by"],
            risks,
            "commentary-risks",
            numeric=(3,),
        )
        if risks
        else html.P("No open risks.", className="message"),
    ]


def _state(overdue: bool) -> Any:
    return html.Span("overdue", className="badge", style=OVERDUE_STYLE) if overdue else "open"


def _forms(said: BenefitCommentary) -> html.Div:
    scale = {"likelihood": LIKELIHOOD, "impact": IMPACT}
    open_actions, open_risks = _options(said)
    return html.Div(
        [
            html.H3("Add a note"),
            html.Div(
                [
                    dcc.Input(id="commentary-note", type="text", placeholder="This week's commentary"),
                    html.Div(html.Button("Add note", id="commentary-add-note", n_clicks=0), style=ROW_STYLE),
                ],
                style=FORM_STYLE,
            ),
            html.H3("Add an action"),
            html.Div(
                [
                    dcc.Input(id="commentary-action-text", type="text", placeholder="Action"),
                    html.Div(
                        [
                            dcc.Input(id="commentary-action-owner", type="text", placeholder="Owner"),
                            dcc.Input(id="commentary-action-due", type="text", placeholder="Due (2026-12-31)"),
                            html.Button("Add action", id="commentary-add-action", n_clicks=0),
                        ],
                        style=ROW_STYLE,
                    ),
                ],
                style=FORM_STYLE,
            ),
            html.H3("Add a risk"),
            html.Div(
                [
                    dcc.Input(id="commentary-risk-text", type="text", placeholder="Risk"),
                    *(
                        dcc.Dropdown(
                            id=f"commentary-risk-{name}",
                            options=[{"label": f"{n} {word}", "value": n} for n, word in words.items()],
                            placeholder=name.capitalize(),
                        )
                        for name, words in scale.items()
                    ),
                    dcc.Input(id="commentary-risk-mitigation", type="text", placeholder="Mitigation"),
                    html.Div(html.Button("Add risk", id="commentary-add-risk", n_clicks=0), style=ROW_STYLE),
                ],
                style=FORM_STYLE,
            ),
            html.H3("Close an action or a risk"),
            html.Div(
                [
                    dcc.Dropdown(id="commentary-open-action", options=open_actions, placeholder="Open action"),
                    html.Div(html.Button("Mark done", id="commentary-action-done", n_clicks=0), style=ROW_STYLE),
                    dcc.Dropdown(id="commentary-open-risk", options=open_risks, placeholder="Open risk"),
                    html.Div(html.Button("Close risk", id="commentary-risk-close", n_clicks=0), style=ROW_STYLE),
                ],
                style=FORM_STYLE,
            ),
            html.P(id="commentary-result", role="status"),
        ],
        id="commentary-forms",
    )


def _options(said: BenefitCommentary) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The close forms' choices: the open actions, the open risks."""
    return (
        [{"label": f"{a.id}: {a.line()}", "value": a.id} for a in said.open_actions],
        [{"label": f"{r.id}: {r.text}", "value": r.id} for r in said.open_risks],
    )


def _may_edit() -> bool:
    """Whether the user of this request may add and close entries; no one outside a request."""
    try:
        return current_user().has_role(EDITORS)
    except RuntimeError:
        return False


def record(
    _note: int | None,
    _action: int | None,
    _risk: int | None,
    _done: int | None,
    _close: int | None,
    benefit: Annotated[dict[str, str], holding(key=str, as_of=IsoDate)],
    *fields: Any,
) -> tuple[Any, ...]:
    """Add or close the entry of the button pressed, as the signed-in pmo user (HTTP 403 for other roles):
    ``benefit`` is the page's benefit and date, ``fields`` the forms' values in the order of :func:`register`."""
    user = require_role(EDITORS)
    key, when = benefit["key"], dt.date.fromisoformat(benefit["as_of"])
    try:
        with data.session() as session:
            done = _apply(session, str(dash.ctx.triggered_id), key, user.name, [_text(v) for v in fields])
            session.commit()
            said = for_benefit(session, key, when)
    except (BenefitsError, ValueError) as exc:
        return f"Not recorded: {exc}", dash.no_update, dash.no_update, dash.no_update
    return (done, shown(said), *_options(said))


def _apply(session: Session, button: str, key: str, by: str, fields: list[str]) -> str:
    """Do what ``button`` asks with the form ``fields``; what was done, in words."""
    note, action, owner, due, risk, likelihood, impact, mitigation, open_action, open_risk = fields
    if button == "commentary-add-note":
        add_note(session, key, note, by)
        return f"Note added by {by}."
    if button == "commentary-add-action":
        action_id = add_action(session, key, action, owner, _date(due), by)
        return f"Action {action_id} added by {by}."
    if button == "commentary-add-risk":
        risk_id = add_risk(
            session, key, risk, _score("likelihood", likelihood), _score("impact", impact), mitigation, by
        )
        return f"Risk {risk_id} added by {by}."
    if button == "commentary-action-done":
        close_action(session, _chosen("action", open_action), by)
        return f"Action {open_action} marked done by {by}."
    close_risk(session, _chosen("risk", open_risk), by)
    return f"Risk {open_risk} closed by {by}."


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"due: {value!r} is not a date like 2026-12-31") from None


def _score(name: str, value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"{name}: choose 1 to 5")
    return int(value)


def _chosen(noun: str, value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"choose an open {noun} first")
    return int(value)


def register(app: dash.Dash) -> None:
    """Attach :func:`record` to ``app``. Done for every app :func:`benefits.dashboards.app.create_app`
    makes: a module-level ``dash.callback`` would reach only the first app made in a process."""
    app.callback(
        Output("commentary-result", "children"),
        Output("commentary-shown", "children"),
        Output("commentary-open-action", "options"),
        Output("commentary-open-risk", "options"),
        Input("commentary-add-note", "n_clicks"),
        Input("commentary-add-action", "n_clicks"),
        Input("commentary-add-risk", "n_clicks"),
        Input("commentary-action-done", "n_clicks"),
        Input("commentary-risk-close", "n_clicks"),
        State("commentary-benefit", "data"),
        State("commentary-note", "value"),
        State("commentary-action-text", "value"),
        State("commentary-action-owner", "value"),
        State("commentary-action-due", "value"),
        State("commentary-risk-text", "value"),
        State("commentary-risk-likelihood", "value"),
        State("commentary-risk-impact", "value"),
        State("commentary-risk-mitigation", "value"),
        State("commentary-open-action", "value"),
        State("commentary-open-risk", "value"),
        prevent_initial_call=True,
    )(record)
