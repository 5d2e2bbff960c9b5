"""The finance page ("/finance"): each claim next to its ledger evidence, sign-off and history, and
each initiative's business case (investment, net benefit, NPV, BCR, payback; planned and forecast).

Reported value (each benefit's latest claim) and validated value (each benefit's latest approved
claim) sit side by side;
metrics whose attribution shares add up to more than 100% are flagged. Approving or rejecting
needs the finance role: only finance users (and admins) see the buttons, the callback asks
``require_role("finance")``, which answers HTTP 403 to anyone else, and the domain check in
:func:`benefits.claims.signoff.decide` refuses it again. Entering a claim needs pmo or finance,
shown and checked the same way.
``?initiative=KEY`` shows one initiative's claims, so links can be shared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from sqlalchemy import select
from sqlalchemy.orm import Session

from benefits.claims import ClaimClass, ClaimSource, Decision
from benefits.claims.importer import CLAIMABLE_CATEGORIES, ClaimInput, record_claims
from benefits.claims.ledger import ClaimLine, ClaimsReport, claims_report
from benefits.claims.money import PENNY, display, display_share, parse_written_money
from benefits.claims.signoff import decide
from benefits.dashboards import business_case, components, data
from benefits.dashboards.auth import current_user, require_role
from benefits.dashboards.formatting import timestamp
from benefits.dashboards.queries import currency, value_report
from benefits.errors import BenefitsError
from benefits.store import models, repository
from benefits.value.report import ValueReport

dash.register_page(__name__, path="/finance", name="Finance", title="Finance · benefits", order=2)

FORM_STYLE = {"display": "grid", "gap": "8px", "maxWidth": "640px"}
BUTTONS_STYLE = {"display": "flex", "gap": "8px"}
CLASS_LABELS = {c.value: c.value.replace("_", "-").capitalize() for c in ClaimClass}


def layout(initiative: Any = None, **_other: Any) -> html.Div:
    """The page for the URL's ``initiative`` value (all initiatives when empty)."""
    chosen = initiative if isinstance(initiative, str) and initiative else None
    with data.session() as session:
        report = claims_report(session, chosen)
        benefits = _claimable_benefits(session)
        currency_code = currency(session)
        title = _initiative_name(session, chosen) if chosen else ""
        case = value_report(session)
    return html.Div(
        [
            html.H1("Finance claims" + (f": {title}" if title else "")),
            html.P(
                "Claimed savings and revenue next to the ledger evidence. Only approved claims count as "
                "validated value.",
                className="subtitle",
            ),
            dcc.Store(id="finance-initiative", data=chosen),
            html.Div(claims_section(report, currency_code), id="finance-claims"),
            *business_case_section(case, chosen),
            html.H2("Sign off a claim"),
            _sign_off_form(report) if _may("finance") else _read_only("approve or reject claims", "finance"),
            html.H2("Enter a claim"),
            _entry_form(benefits) if _may("pmo", "finance") else _read_only("enter claims", "pmo or finance"),
        ],
        className="page finance",
    )


def business_case_section(report: ValueReport, initiative: str | None = None) -> list[Any]:
    """Each initiative's business case and the portfolio's (`benefits value`'s figures): investment,
    net benefit, NPV, benefit/cost ratio and payback, planned and forecast; only ``initiative``'s when given."""
    return [
        html.H2("Business case"),
        components.table(
            business_case.CASE_HEADERS,
            business_case.case_rows(report, initiative),
            table_id="finance-business-case",
            numeric=business_case.CASE_NUMERIC,
        ),
        html.P(business_case.case_note(report), className="message"),
    ]


def claims_section(report: ClaimsReport, currency_code: str) -> list[Any]:
    """Cards, double-counting flags, the claims table and the sign-off history of ``report``."""
    pending = sum(1 for line in report.lines if line.state == "pending")
    parts: list[Any] = [
        html.Div(
            [
                components.card(
                    "Reported",
                    display(report.reported, currency_code, PENNY),
                    f"{len(report.lines)} claims; each benefit's latest counts",
                    card_id="card-reported",
                ),
                components.card(
                    "Evidenced",
                    display(report.evidenced, currency_code, PENNY),
                    "from ledger metrics",
                    card_id="card-evidenced",
                ),
                components.card(
                    "Validated",
                    display(report.validated, currency_code, PENNY),
                    "approved by finance",
                    card_id="card-validated",
                ),
                components.card("Awaiting sign-off", str(pending)),
            ],
            className="cards",
        )
    ]
    if report.over_attributed:
        parts.append(
            html.Div(
                [html.H2("Double counting"), html.Ul([html.Li(f.message()) for f in report.over_attributed])],
                id="finance-double-counting",
                style={"color": "#cf222e"},
            )
        )
    if not report.lines:
        parts.append(
            html.P(["No claims yet: import a CSV with ", html.Code("benefits claims import"), " or enter one below."])
        )
        return parts
    parts.append(
        components.table(
            [
                "ID",
                "Initiative",
                "Benefit",
                "Period",
                "Class",
                "Claimed",
                "Evidenced",
                "Variance",
                "Evidenced %",
                "Evidence",
                "State",
                "Flags",
            ],
            [_claim_row(line, currency_code) for line in report.lines],
            table_id="finance-claims-table",
            numeric=(0, 5, 6, 7, 8),
        )
    )
    history = [
        [
            str(line.id),
            line.benefit_name or line.benefit,
            timestamp(d.decided_at),
            d.decided_by,
            d.role,
            d.decision,
            d.comment,
        ]
        for line in report.lines
        for d in line.decisions
    ]
    parts += [
        html.H2("Sign-off history"),
        components.table(
            ["Claim", "Benefit", "When", "Who", "Role", "Decision", "Comment"], history, table_id="finance-history"
        )
        if history
        else html.P("No decisions yet."),
    ]
    return parts


def _claim_row(line: ClaimLine, currency_code: str) -> list[Any]:
    r = line.reconciliation
    return [
        str(line.id),
        line.initiative_name,
        line.benefit_name or line.benefit,
        line.period.isoformat(),
        CLASS_LABELS[line.claim_class.value],
        display(r.claimed, currency_code, PENNY),
        display(r.evidenced, currency_code, PENNY),
        display(r.variance, currency_code, PENNY),
        display_share(r.evidenced_share),
        html.Div([html.Div(r.state.replace("_", " ")), html.Small(r.reason, style={"color": "#57606a"})]),
        line.state,
        "double counted" if line.double_counted else "orphan" if line.orphan else "",
    ]


def _sign_off_form(report: ClaimsReport) -> html.Div:
    options = [
        {
            "label": f"Claim {line.id} · {line.benefit_name or line.benefit} · {line.period.isoformat()} "
            f"({line.state})",
            "value": line.id,
        }
        for line in report.lines
    ]
    return html.Div(
        [
            dcc.Dropdown(id="finance-claim", options=options, placeholder="Claim"),
            dcc.Textarea(id="finance-comment", placeholder="Why (kept in the history)", style={"width": "100%"}),
            html.Div(
                [
                    html.Button("Approve", id="finance-approve", n_clicks=0),
                    html.Button("Reject", id="finance-reject", n_clicks=0),
                ],
                style=BUTTONS_STYLE,
            ),
            html.P(id="finance-result", role="status"),
        ],
        className="form",
        style=FORM_STYLE,
    )


def _entry_form(benefits: list[tuple[str, str]]) -> html.Div:
    return html.Div(
        [
            dcc.Dropdown(
                id="finance-new-benefit", options=[{"label": n, "value": k} for k, n in benefits], placeholder="Benefit"
            ),
            dcc.Input(id="finance-new-period", type="text", placeholder="Period (2026-06-29)"),
            dcc.Input(id="finance-new-value", type="text", placeholder="Claimed value"),
            dcc.Dropdown(
                id="finance-new-class",
                options=[{"label": v, "value": k} for k, v in CLASS_LABELS.items()],
                placeholder="Class (default from the benefit)",
            ),
            html.Div(html.Button("Record claim", id="finance-record", n_clicks=0), style=BUTTONS_STYLE),
            html.P(id="finance-record-result", role="status"),
        ],
        className="form",
        style=FORM_STYLE,
    )


def _may(*roles: str) -> bool:
    """Whether the user of this request holds one of ``roles`` (admin holds all); no one outside a request."""
    try:
        return current_user().has_role(*roles)
    except RuntimeError:
        return False


def _read_only(what: str, roles: str) -> html.P:
    """Said instead of a form the user may not use."""
    return html.P(f"Only {roles} users can {what}; ask one of them, or an admin.", className="message")


def _initiative_name(session: Session, key: str) -> str:
    found = session.scalars(select(models.Initiative.name).where(models.Initiative.key == key)).first()
    return found or key


def _claimable_benefits(session: Session) -> list[tuple[str, str]]:
    return [
        (b.key, b.name)
        for b in repository.benefits(session)
        if b.category in CLAIMABLE_CATEGORIES and not b.dis_benefit
    ]


@dash.callback(
    Output("finance-result", "children"),
    Output("finance-claims", "children"),
    Input("finance-approve", "n_clicks"),
    Input("finance-reject", "n_clicks"),
    State("finance-claim", "value"),
    State("finance-comment", "value"),
    State("finance-initiative", "data"),
    prevent_initial_call=True,
)
def sign_off(
    _approve: int, _reject: int, claim_id: int | None, comment: str | None, initiative: str | None
) -> tuple[str, Any]:
    """Approve or reject the chosen claim as the signed-in finance user (HTTP 403 for other roles)."""
    user = require_role("finance")
    decision = Decision.approved if dash.ctx.triggered_id == "finance-approve" else Decision.rejected
    if claim_id is None:
        return "Choose a claim first.", dash.no_update
    with data.session() as session:
        try:
            decide(session, int(claim_id), decision, user.name, user.role, str(comment or ""))
        except BenefitsError as exc:
            return f"Not recorded: {exc}", dash.no_update
        session.commit()
        report, currency_code = claims_report(session, initiative), currency(session)
    return f"Claim {claim_id} {decision.value} by {user.name}.", claims_section(report, currency_code)


@dash.callback(
    Output("finance-record-result", "children"),
    Output("finance-claims", "children", allow_duplicate=True),
    Input("finance-record", "n_clicks"),
    State("finance-new-benefit", "value"),
    State("finance-new-period", "value"),
    State("finance-new-value", "value"),
    State("finance-new-class", "value"),
    State("finance-initiative", "data"),
    prevent_initial_call=True,
)
def record(
    _clicks: int,
    benefit: str | None,
    period: str | None,
    value: str | int | float | None,
    claim_class: str | None,
    initiative: str | None,
) -> tuple[str, Any]:
    """Record a claim entered on the page (roles pmo or finance), source ``dashboard``."""
    user = require_role("pmo", "finance")
    try:
        claim = ClaimInput(
            benefit=str(benefit or ""),
            period=_date(period),
            claimed_value=parse_written_money(str(value or "")),
            claim_class=ClaimClass(claim_class) if claim_class else None,
            where="claim",
            written_as=str(value or ""),
        )
        with data.session() as session:
            counts = record_claims(session, [claim], ClaimSource.dashboard, user.name)
            session.commit()
            report, currency_code = claims_report(session, initiative), currency(session)
    except (BenefitsError, ValueError) as exc:
        return f"Not recorded: {exc}", dash.no_update
    done = "recorded" if counts.new else "updated" if counts.updated else "unchanged"
    return f"Claim for {claim.benefit} at {claim.period} {done}.", claims_section(report, currency_code)


def _date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValueError(f"period: {value!r} is not a date like 2026-06-29") from None
