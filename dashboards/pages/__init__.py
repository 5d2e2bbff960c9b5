"""Dash Pages of the dashboard, one file per page; Dash imports them when the app is created."""
