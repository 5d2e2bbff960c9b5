"""The Dash web app: portfolio and benefit pages over the store (see ``benefits.dashboards.app``).

This top-level folder is the package ``benefits.dashboards``: ``benefits/dashboards`` links to it,
and the wheel ships it at that place, so ``pip install`` adds only ``benefits`` to site-packages.
Import it as ``benefits.dashboards``, never as ``dashboards``.
"""
