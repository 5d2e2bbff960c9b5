"""The Dash web app: portfolio and benefit pages over the store (see ``benefits.dashboards.app``)."""
