"""benefits: weekly benefits realisation tracking for transformation portfolios."""

__version__ = "0.1.0"
