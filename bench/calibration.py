"""Calibration report: is the probability of landing trustworthy, and better than the baselines?

On a seeded synthetic set with known outcomes (``bench/synthetic.py``: trajectories that stall,
accelerate, plateau, arrive late, arrive early) it computes, for the forecast and for two
baselines on the same benefits (straight line through the last quarter; "on plan today"), the
Brier score of the probability of landing and the forecast's reliability table; and, from a
rolling-origin backtest of every benefit, the interval coverage and error.

    .venv/bin/python bench/calibration.py --count 250 --seed 7 --workers 2
    .venv/bin/python bench/calibration.py --count 250 --set parameter_uncertainty=false

Prints a Markdown report (the figures of docs/forecasting.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import SCENARIOS, SyntheticBenefit, generate  # noqa: E402
from benefits.forecast import ForecastSettings, forecast_benefit  # noqa: E402
from benefits.forecast import calibration  # noqa: E402
from benefits.forecast.backtest import backtest  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """One synthetic benefit: the three probabilities, the outcome and its backtest."""

    key: str
    scenario: str
    landed: bool
    status: str
    p_forecast: float | None
    p_straight_line: float
    p_on_plan: float
    covered: int
    backtest_points: int
    backtest_error: float | None


def evaluate(item: SyntheticBenefit, settings: ForecastSettings, origins: int) -> Evaluation:
    """Forecast, baselines and backtest of one synthetic benefit (real Prophet fits)."""
    b, start, obs, as_of = item.benefit, item.benefit.baseline.date, item.observations, item.as_of
    result = forecast_benefit(b, start, obs, as_of, settings)
    test = backtest(b, start, obs, as_of, settings, origins=origins)
    return Evaluation(
        key=b.key, scenario=item.scenario, landed=item.landed, status=result.status, p_forecast=result.p_on_time,
        p_straight_line=calibration.straight_line(b, start, obs, as_of), p_on_plan=calibration.on_plan(b, start, obs, as_of),
        covered=sum(p.covered for p in test.points), backtest_points=len(test.points), backtest_error=test.error,
    )


def evaluate_all(items: list[SyntheticBenefit], settings: ForecastSettings, origins: int, workers: int) -> list[Evaluation]:
    """:func:`evaluate` every item, in ``workers`` processes."""
    run = partial(evaluate, settings=settings, origins=origins)
    if workers <= 1:
        return [run(item) for item in items]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, items, chunksize=4))


def report(evaluations: list[Evaluation], settings: ForecastSettings) -> str:
    """The Markdown report: Brier scores, reliability table, backtest coverage, per scenario."""
    scored = [e for e in evaluations if e.p_forecast is not None]
    landed = [e.landed for e in scored]
    lines = [
        f"Benefits: {len(evaluations)} ({len(scored)} with a probability; {sum(landed)} landed on time).",
        f"Settings: {settings.model_dump()}",
        "",
        "| method | Brier score (lower is better) |",
        "|---|---|",
        f"| forecast (Prophet, p_on_time) | {calibration.brier([e.p_forecast for e in scored], landed):.4f} |",
        f"| straight line through the last quarter | {calibration.brier([e.p_straight_line for e in scored], landed):.4f} |",
        f"| on plan today (realised >= planned) | {calibration.brier([e.p_on_plan for e in scored], landed):.4f} |",
        "",
        "| scenario | benefits | landed | Brier forecast | Brier straight line | Brier on plan |",
        "|---|---|---|---|---|---|",
    ]
    for scenario in SCENARIOS:
        group = [e for e in scored if e.scenario == scenario]
        if not group:
            continue
        outcome = [e.landed for e in group]
        lines.append(
            f"| {scenario} | {len(group)} | {sum(outcome)} | {calibration.brier([e.p_forecast for e in group], outcome):.4f} "
            f"| {calibration.brier([e.p_straight_line for e in group], outcome):.4f} "
            f"| {calibration.brier([e.p_on_plan for e in group], outcome):.4f} |"
        )
    lines += ["", "| p_on_time bin | forecasts | mean p | share landed |", "|---|---|---|---|"]
    for row in calibration.reliability([e.p_forecast for e in scored], landed):
        mean_p = "-" if row.mean_p is None else f"{row.mean_p:.2f}"
        observed = "-" if row.observed is None else f"{row.observed:.2f}"
        lines.append(f"| {row.lower:.1f}-{row.upper:.1f} | {row.count} | {mean_p} | {observed} |")
    points = sum(e.backtest_points for e in evaluations)
    covered = sum(e.covered for e in evaluations)
    errors = [e.backtest_error for e in evaluations if e.backtest_error is not None]
    lines += [
        "",
        f"Rolling-origin backtest: {points} forecast weeks from {sum(e.backtest_points > 0 for e in evaluations)} "
        f"benefits; {settings.interval:.0%} interval coverage {covered / points:.3f}; mean absolute error of the "
        f"median {sum(errors) / len(errors):.3f} of the target improvement." if points else "Backtest: no points.",
    ]
    return "\n".join(lines) + "\n"


def _settings(pairs: list[str]) -> ForecastSettings:
    values: dict[str, str] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        values[name] = value
    return ForecastSettings.model_validate(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=250, help="synthetic benefits (default 250)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--origins", type=int, default=3, help="backtest origins per benefit (default 3)")
    parser.add_argument("--set", dest="pairs", action="append", default=[], metavar="FIELD=VALUE",
                        help="a ForecastSettings field, e.g. parameter_uncertainty=false (repeatable)")
    args = parser.parse_args()
    settings = _settings(args.pairs)
    started = time.perf_counter()
    evaluations = evaluate_all(generate(args.count, seed=args.seed), settings, args.origins, args.workers)
    print(report(evaluations, settings), end="")
    print(f"\n({time.perf_counter() - started:.0f} s, {args.workers} workers, seed {args.seed})")


if __name__ == "__main__":
    main()
