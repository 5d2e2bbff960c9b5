"""Database URLs as they are shown: a password in the user-info or in the query string is masked."""

from __future__ import annotations

import pytest

from benefits.urls import is_secret_parameter, shown_url, url_secrets

SECRET = "s3cret-Zq7"


@pytest.mark.parametrize(
    "name",
    ["password", "PASSWORD", "sslpassword", "passwd", "pwd", "token", "access_token", "api_key", "apikey", "Api-Key"]
    + ["secret", "client_secret", "aws_secret_access_key", "credentials", "key"],
)
def test_secret_looking_query_parameters_are_secret(name: str) -> None:
    assert is_secret_parameter(name)


@pytest.mark.parametrize("name", ["sslmode", "sslkey", "sslrootcert", "application_name", "connect_timeout", "uri"])
def test_other_query_parameters_are_not(name: str) -> None:
    assert not is_secret_parameter(name)


def test_a_password_in_the_query_string_is_shown_as_stars_and_the_other_parameters_as_they_are() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:5999/x?password={SECRET}&sslmode=require&token=t-{SECRET}"
    assert shown_url(url) == "postgresql+psycopg://postgres@127.0.0.1:5999/x?password=***&sslmode=require&token=***"
    assert url_secrets(url) == {SECRET, f"t-{SECRET}"}


def test_a_password_in_the_user_info_and_every_value_of_a_repeated_parameter_are_masked_too() -> None:
    url = f"postgresql+psycopg://postgres:{SECRET}@db/x?api_key=one-{SECRET}&api_key=two-{SECRET}"
    shown = shown_url(url)
    assert shown == "postgresql+psycopg://postgres:***@db/x?api_key=***"
    assert SECRET not in shown
    assert url_secrets(url) == {SECRET, f"one-{SECRET}", f"two-{SECRET}"}


def test_a_url_without_secrets_is_shown_unchanged() -> None:
    for url in ("sqlite:///benefits.db", "sqlite:///file:/tmp/b.db?mode=ro&uri=true", "postgresql://u@h/db?sslmode=x"):
        assert shown_url(url) == url.replace("file:", "file%3A")  # as SQLAlchemy writes it
        assert url_secrets(url) == frozenset()
