"""The register workbook's sheets and columns: what each column holds, where it goes in ``portfolio.yaml``,
whether it is required and which values it allows. The template, the import, the export and the
instructions sheet all read this one table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from benefits.register import Category, Direction, Loc, Measure, Tactic, ValueType

Kind = Literal["text", "number", "integer", "date", "yes_no", "choice"]

KEY_RULE = "lowercase letters, digits, - and _ (e.g. crm-win-rate)"


@dataclass(frozen=True)
class Column:
    """One column of a sheet."""

    field: str
    """The column's name in problems (``target_date``); a header matches it ignoring case, spaces and punctuation."""
    header: str
    """The header the template writes (``Target date``)."""
    loc: Loc
    """Where the value goes in its entry of ``portfolio.yaml``: ``("target", "date")``."""
    kind: Kind
    required: bool
    help: str
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    initiative: bool = False
    """On the Benefits sheet: a field of the benefit's initiative (repeated on each of its rows)."""
    example: str = ""

    def names(self) -> set[str]:
        """The normalised headers that name this column."""
        return {normal(name) for name in (self.field, self.header, *self.aliases)}


@dataclass(frozen=True)
class Sheet:
    """One sheet of the register workbook."""

    name: str
    help: str
    columns: tuple[Column, ...]
    required: bool = False
    aliases: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        """The column whose field is ``name``."""
        return next(c for c in self.columns if c.field == name)

    def names(self) -> set[str]:
        """The normalised sheet names that name this sheet."""
        return {normal(name) for name in (self.name, *self.aliases)}


def normal(text: str) -> str:
    """A header or sheet name without case, spaces and punctuation: ``Target Date`` and ``target_date`` match."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def choice(value: str) -> str:
    """An allowed value as written by a person (``Cost reduction``, ``S-curve``) in the register's form."""
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


YES_NO = ("yes", "no")
PROFILES = ("linear", "s_curve", "points")

BENEFITS = Sheet(
    "Benefits",
    "One row per benefit. The first six columns describe the benefit's initiative: repeat them on each of "
    "its benefits' rows (or fill them on its first row only). A row with only those six columns is an "
    "initiative without benefits yet.",
    (
        Column("programme", "Programme", ("programme",), "text", True, f"The programme's key: {KEY_RULE}.",
               aliases=("program", "programme key"), initiative=True, example="growth"),
        Column("initiative", "Initiative", ("key",), "text", True, f"The initiative's key: {KEY_RULE}.",
               aliases=("initiative key",), initiative=True, example="crm-modernisation"),
        Column("initiative_name", "Initiative name", ("name",), "text", True, "The initiative's name.",
               initiative=True, example="CRM modernisation"),
        Column("tactic", "Tactic", ("tactic",), "choice", True, "The initiative's tactic.", _values(Tactic),
               initiative=True, example="customer_experience"),
        Column("initiative_owner", "Initiative owner", ("owner",), "text", True, "Who owns the initiative.",
               initiative=True, example="Priya Shah"),
        Column("investment", "Investment", ("investment",), "number", False,
               "What the initiative costs, in the portfolio's currency (default 0).", initiative=True,
               example="1800000"),
        Column("benefit_key", "Benefit key", ("key",), "text", True, f"The benefit's key, unique: {KEY_RULE}.",
               aliases=("benefit", "key"), example="crm-win-rate"),
        Column("benefit_name", "Benefit name", ("name",), "text", True, "What the benefit is called.",
               aliases=("name",), example="Opportunity win rate"),
        Column("category", "Category", ("category",), "choice", True, "The business outcome it serves.",
               _values(Category), example="revenue"),
        Column("metric", "Metric", ("metric",), "text", True,
               "The metric that measures it, as the connectors deliver it.", example="crm.win_rate_pct"),
        Column("unit", "Unit", ("unit",), "text", True, "The metric's unit (one unit per metric).", example="%"),
        Column("direction", "Direction", ("direction",), "choice", True,
               "Which way the metric moves when the benefit is realised.", _values(Direction), example="increase"),
        Column("measure", "Measure", ("measure",), "choice", True,
               "cumulative: period values add up (savings per week); level: the latest value counts (a rate).",
               _values(Measure), example="level"),
        Column("baseline_value", "Baseline value", ("baseline", "value"), "number", True,
               "The metric's value before the change.", example="22"),
        Column("baseline_date", "Baseline date", ("baseline", "date"), "date", True,
               "When the baseline was measured.", example="2025-09-01"),
        Column("target_value", "Target value", ("target", "value"), "number", True,
               "The value promised by the business case.", example="30"),
        Column("target_date", "Target date", ("target", "date"), "date", True,
               "When the target is to be reached (after the baseline date).", example="2027-06-28"),
        Column("profile", "Profile", ("profile",), "choice", False,
               "How value ramps from baseline to target (default linear); points: the dated values in the "
               "'Profile points' sheet.", PROFILES, example="s_curve"),
        Column("benefit_owner", "Benefit owner", ("owner",), "text", True, "Who answers for the benefit.",
               aliases=("owner",), example="Tom Okafor"),
        Column("attribution", "Attribution", ("attribution",), "number", False,
               "The share of the metric's movement credited to this benefit, above 0 and at most 1 (default 1).",
               example="1"),
        Column("cash_releasing", "Cash releasing", ("cash_releasing",), "yes_no", False,
               "Whether the saving releases cash (default no).", YES_NO, example="no"),
        Column("dis_benefit", "Dis-benefit", ("dis_benefit",), "yes_no", False,
               "Whether it counts against its initiative (default no).", YES_NO, example="no"),
        Column("starts_after", "Starts after", ("starts_after",), "text", False,
               "A milestone key of the initiative ('Milestones' sheet) after which value starts.",
               example="go-live"),
        Column("value_per_unit", "Value per unit", ("value_per_unit",), "number", False,
               "Money per unit of improvement, so an initiative's benefits add up (default 1).", example="40000"),
        Column("bounds_min", "Lower bound", ("bounds", "min"), "number", False,
               "The metric's natural minimum (e.g. 0 for a percentage).", aliases=("min", "minimum"),
               example="0"),
        Column("bounds_max", "Upper bound", ("bounds", "max"), "number", False,
               "The metric's natural maximum (e.g. 100 for a percentage).", aliases=("max", "maximum"),
               example="100"),
        Column("cadence_days", "Cadence days", ("cadence_days",), "integer", False,
               "How often the metric reports, in days (inferred when blank).", aliases=("cadence",), example="7"),
        Column("stale_tolerance", "Stale tolerance", ("stale_tolerance",), "number", False,
               "Missed cadences before the data counts as stale, at least 1 (default 2).", example="2"),
        Column("value_type", "Value type", ("value_type",), "choice", False,
               "run_rate: the value is a rate per year (level measures only); amount: money banked by then "
               "(default: run_rate for a level measure, amount for a cumulative one).", _values(ValueType),
               example="run_rate"),
        Column("change_reason", "Change reason", ("change_reason",), "text", False,
               "Why the baseline, target, dates, profile or attribution changed since the register was last "
               "loaded: recorded with the change by `benefits init` (see `benefits register history`).",
               aliases=("reason", "rebaseline reason", "re-baseline reason"), example=""),
    ),
    required=True,
    aliases=("register", "benefits register"),
)  # fmt: skip

PROGRAMMES = Sheet(
    "Programmes",
    "One row per programme. Optional: without it (or in a CSV file), each programme named on the Benefits "
    "sheet is created with its key as its name.",
    (
        Column("programme", "Programme", ("key",), "text", True, f"The programme's key: {KEY_RULE}.",
               aliases=("program", "key", "programme key"), example="growth"),
        Column("programme_name", "Programme name", ("name",), "text", True, "The programme's name.",
               aliases=("name",), example="Customer Growth"),
        Column("outcome", "Outcome", ("outcome",), "text", False, "The strategic outcome it serves.",
               example="Increased revenue"),
    ),
)  # fmt: skip

MILESTONES = Sheet(
    "Milestones",
    "One row per milestone of an initiative; a benefit's 'Starts after' names one.",
    (
        Column("initiative", "Initiative", (), "text", True, "The key of the milestone's initiative.",
               aliases=("initiative key",), example="crm-modernisation"),
        Column("milestone", "Milestone", ("key",), "text", True, f"The milestone's key: {KEY_RULE}.",
               aliases=("key", "milestone key"), example="go-live"),
        Column("milestone_name", "Milestone name", ("name",), "text", True, "What happens.",
               aliases=("name",), example="New CRM live for all sales teams"),
        Column("milestone_date", "Milestone date", ("date",), "date", True, "When.", aliases=("date",),
               example="2025-11-03"),
    ),
)  # fmt: skip

PROFILE_POINTS = Sheet(
    "Profile points",
    "The planned values of benefits whose Profile is 'points': one row per dated value, between the "
    "baseline and target dates.",
    (
        Column("benefit_key", "Benefit key", (), "text", True, "The benefit's key.", aliases=("benefit", "key"),
               example="pricing-margin-uplift"),
        Column("point_date", "Date", ("date",), "date", True, "The date of the planned value.",
               aliases=("point date",), example="2025-12-29"),
        Column("point_value", "Planned value", ("value",), "number", True,
               "The metric's planned value at that date.", aliases=("value", "point value"), example="250000"),
    ),
    aliases=("profiles", "profilepoints", "points"),
)  # fmt: skip

METRICS = Sheet(
    "Metrics",
    "The metric catalogue: metrics the connectors deliver that no benefit measures (yet). Optional.",
    (
        Column("metric", "Metric", ("name",), "text", True, "The metric's name.", aliases=("name",),
               example="hr.headcount"),
        Column("unit", "Unit", ("unit",), "text", True, "Its unit.", example="people"),
        Column("bounds_min", "Lower bound", ("bounds", "min"), "number", False, "Its natural minimum.",
               aliases=("min", "minimum"), example="0"),
        Column("bounds_max", "Upper bound", ("bounds", "max"), "number", False, "Its natural maximum.",
               aliases=("max", "maximum"), example=""),
    ),
)  # fmt: skip

PORTFOLIO = Sheet(
    "Portfolio",
    "The portfolio's name, currency and finance settings, on the row under the headers. Optional: the name "
    "defaults to the file's name (or --name), the currency to GBP (or --currency).",
    (
        Column("portfolio_name", "Portfolio name", ("name",), "text", True, "The portfolio's name.",
               aliases=("name", "portfolio"), example="Demo transformation portfolio"),
        Column("currency", "Currency", ("currency",), "text", False, "Three-letter currency code (default GBP).",
               example="GBP"),
        Column("fiscal_year_start_month", "Fiscal year start month", ("fiscal_year_start_month",), "integer", False,
               "The month (1-12) the fiscal year starts on its 1st (default 4, April, for GBP; else 1).",
               example="4"),
        Column("discount_rate", "Discount rate", ("discount_rate",), "number", False,
               "The NPV's annual discount rate as a fraction (default 0.035, the Green Book's 3.5%).",
               example="0.035"),
        Column("appraisal_years", "Appraisal years", ("appraisal_years",), "integer", False,
               "Fiscal years a business case runs (default 10).", example="10"),
        Column("valuation_date", "Valuation date", ("valuation_date",), "date", False,
               "Discounting's year 0 is the fiscal year holding this date (default: the portfolio's first).",
               example="2025-04-01"),
    ),
)  # fmt: skip

SHEETS = (BENEFITS, PROGRAMMES, MILESTONES, PROFILE_POINTS, METRICS, PORTFOLIO)
"""The data sheets, in the workbook's order (the instructions sheet comes first)."""

INSTRUCTIONS = "Instructions"
