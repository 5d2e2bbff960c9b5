"""The business case as finance reads it: cash versus run-rate, fiscal years, investment and return.

- :mod:`benefits.value.fiscal` — fiscal years (start month, names, boundaries);
- :mod:`benefits.value.investment` — an initiative's costs over time (one-off, phased, running);
- :mod:`benefits.value.returns` — net benefit, NPV, benefit/cost ratio, payback;
- :mod:`benefits.value.cases` — each initiative's and the portfolio's business case from its benefits'
  series (planned, realised, forecast), with :mod:`benefits.realisation`'s cash maths;
- :mod:`benefits.value.rollup` — P10/P50/P90 of the portfolio's cash by each fiscal year's end;
- :mod:`benefits.value.reading` — the inputs from the store; :mod:`benefits.value.build` — the report;
- :mod:`benefits.value.report` — `benefits value` as a table, JSON or CSV.
"""

#: The roll-up's default correlation between metrics and its number of draws (here, not in
#: :mod:`benefits.value.rollup`, so that `benefits --help` reads them without loading the register).
DEFAULT_CORRELATION = 0.5
DEFAULT_SAMPLES = 4000
