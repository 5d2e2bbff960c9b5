"""notify.yaml and the two ways a message leaves: e-mail through an SMTP server, and a chat webhook.

notify.yaml (in the config folder) holds an ``smtp`` server, a ``webhook`` (Teams/Slack style: a
JSON ``{"text": ...}`` posted to its URL), or both, ``owners``: each owner's e-mail address by
the name the register gives them, and ``attach_pack: true`` to attach the steering pack (PDF) to
every e-mail. ``${NAME}`` in any ``smtp`` or ``webhook`` value is filled from
the environment, as in connectors.yaml (``benefits.plugins.secrets``); the password and the webhook
URL (whose path is its token) are secrets and never appear in a message: a failure names the
server (``host:port``, or the webhook's scheme and host) and why, in one line.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import smtplib
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from benefits.errors import BenefitsError, ConfigError
from benefits.plugins.connector import MAX_TIMEOUT
from benefits.plugins.secrets import expand_settings, mask
from benefits.register import Number, read_yaml

NOTIFY_FILE = "notify.yaml"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

Timeout = Annotated[Number, Field(gt=0, le=MAX_TIMEOUT)]
"""Seconds to wait for the SMTP server or the webhook: a register :data:`~benefits.register.Number` (finite, at
most 16 digits) above 0, at most :data:`~benefits.plugins.connector.MAX_TIMEOUT` (a day, as a connector's)."""


WEBHOOK_URL_ERROR = "webhook_url"
"""The error type of a webhook URL that cannot be posted to: its message is shown, as it never holds the URL."""


class NotifyError(BenefitsError):
    """A message could not be delivered: the SMTP server or the webhook refused it or was unreachable."""


class SmtpSettings(BaseModel):
    """The SMTP server that e-mails the digest (``smtp:`` in notify.yaml)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(gt=0, lt=65536)] | None = None
    """Default: 587 with starttls, 465 with ssl, 25 with none."""
    sender: Annotated[str, Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")]
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    timeout: Timeout = 30.0

    @property
    def server(self) -> str:
        """``host:port``, as errors name the server."""
        return f"{self.host}:{self.port or DEFAULT_PORTS[self.security]}"


class WebhookSettings(BaseModel):
    """A chat webhook (Teams, Slack, Mattermost...) that receives ``{"text": ...}`` (``webhook:`` in notify.yaml)."""

    model_config = ConfigDict(extra="forbid")
    url: SecretStr
    timeout: Timeout = 30.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: SecretStr) -> SecretStr:
        """An http(s) URL with a host and a valid port; the message never shows the URL (its path is the token)."""
        parts = urlsplit(url.get_secret_value().strip())
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number or out of range
        except ValueError:
            raise PydanticCustomError(WEBHOOK_URL_ERROR, "has a port that is not a number from 1 to 65535") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            why = f"its scheme is {scheme}:" if scheme else "it has no scheme"
        elif not parts.hostname:
            why = "it has no host"
        else:
            return url
        raise PydanticCustomError(
            WEBHOOK_URL_ERROR,
            f"must be an http:// or https:// URL with a host ({why}; the URL is not shown: it is a secret)",
        )

    @property
    def server(self) -> str:
        """The URL's scheme and host, without its path (the path is the webhook's token)."""
        parts = urlsplit(self.url.get_secret_value())
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class NotifySettings(BaseModel):
    """The whole notify.yaml."""

    model_config = ConfigDict(extra="forbid")
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None
    owners: dict[str, Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = {}
    """Each owner's e-mail address, by the name the register gives them."""
    attach_pack: bool = False
    """Attach the steering pack, printed to PDF, to every e-mail (as ``benefits digest --attach-pack``)."""

    def address(self, owner: str) -> str | None:
        """The owner's e-mail address: from ``owners``, or the owner itself when the register gives an address."""
        if owner in self.owners:
            return self.owners[owner]
        return owner if "@" in owner and " " not in owner.strip() else None


def load_notify(config_dir: Path) -> NotifySettings:
    """notify.yaml of ``config_dir``, its ``${NAME}`` filled in; empty settings when there is no such file."""
    path = config_dir / NOTIFY_FILE
    if not path.exists():
        return NotifySettings()
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with smtp, webhook and owners")
    try:
        filled = {
            key: expand_settings(value, key)[0] if key in ("smtp", "webhook") else value for key, value in raw.items()
        }
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        return NotifySettings.model_validate(filled)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        secret = first["loc"][-1:] in (("password",), ("url",)) and first["type"] != WEBHOOK_URL_ERROR
        problem = first["type"] if secret else first["msg"][:1].lower() + first["msg"][1:]
        raise ConfigError(f"{path}: {where}: {problem}") from None


@contextmanager
def smtp_session(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """A connected (and, when configured, encrypted and logged-in) SMTP session; NotifyError naming the server."""
    port = settings.port or DEFAULT_PORTS[settings.security]
    with _smtp_errors(settings):
        if settings.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, port, timeout=settings.timeout)
        try:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                client.login(settings.username, password)
            yield client
        finally:
            client.close()


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail."""

    filename: str
    content: bytes
    mime_type: str  # e.g. application/pdf


def send_email(
    client: smtplib.SMTP,
    settings: SmtpSettings,
    to: str,
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
) -> None:
    """E-mail ``body`` (plain text), with ``attachments``, to ``to`` through an open :func:`smtp_session`."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, to, subject
    message.set_content(body)
    for attachment in attachments:
        maintype, subtype = attachment.mime_type.split("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    with _smtp_errors(settings):
        client.send_message(message)


#: Answers that ask the sender to wait and try again (Slack, Teams and Mattermost answer 429 with Retry-After).
RETRY_STATUSES = (429, 503)
#: Attempts of one post when the webhook asks to wait, and the longest wait (seconds) that is waited for.
WEBHOOK_ATTEMPTS, MAX_RETRY_AFTER = 4, 60.0


class _AskedToWait(NotifyError):
    """The webhook answered 429 or 503: ``wait`` is its Retry-After in seconds (None without one)."""

    def __init__(self, message: str, wait: float | None) -> None:
        super().__init__(message)
        self.wait = wait


def post_webhook(settings: WebhookSettings, text: str, sleep: Callable[[float], None] = time.sleep) -> None:
    """Post ``{"text": text}`` as JSON to the webhook; NotifyError naming its server unless it answers 2xx within
    ``settings.timeout`` seconds in all.

    The timeout is a deadline for each attempt's whole request: urllib's own applies to each read, so a server
    that sends its answer a few bytes at a time would hold the digest for ever. The request runs in a daemon
    thread, left to end with the process when the deadline passes. An answer 429 or 503 is tried again, up to
    :data:`WEBHOOK_ATTEMPTS` attempts in all, after its ``Retry-After`` (seconds or a date; 1, 2, 4 s without
    one); a wait over :data:`MAX_RETRY_AFTER` seconds is not waited for."""
    for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
        try:
            _post_within_timeout(settings, text)
            return
        except _AskedToWait as exc:
            wait = exc.wait if exc.wait is not None else float(2 ** (attempt - 1))
            if wait > MAX_RETRY_AFTER:
                raise NotifyError(f"{exc}, asking to wait {wait:.0f} s: run `benefits digest` again later") from None
            if attempt == WEBHOOK_ATTEMPTS:
                raise NotifyError(f"{exc} {attempt} times (waiting as it asked between them)") from None
            sleep(max(wait, 0.0))


def _post_within_timeout(settings: WebhookSettings, text: str) -> None:
    request = urllib.request.Request(
        settings.url.get_secret_value(),
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    outcome: list[BaseException | None] = []

    def post() -> None:
        try:
            _post(settings, request)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=post, name="benefits-webhook", daemon=True)
    worker.start()
    worker.join(settings.timeout)
    if not outcome:
        raise NotifyError(
            f"webhook {settings.server} did not answer within {settings.timeout:g} s (timeout in notify.yaml)"
        )
    if outcome[0] is not None:
        raise outcome[0]


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (a number of seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)


def _post(settings: WebhookSettings, request: urllib.request.Request) -> None:
    try:
        with _OPENER.open(request, timeout=settings.timeout):
            return
    except urllib.error.HTTPError as exc:
        exc.close()
        answer = f"webhook {settings.server} answered HTTP {exc.code} {' '.join(str(exc.reason).split())}"
        if 300 <= exc.code < 400:
            target = urlsplit(urllib.parse.urljoin(settings.url.get_secret_value(), exc.headers.get("Location", "")))
            where = f" to {target.scheme}://{target.netloc.rpartition('@')[2]}" if target.netloc else ""
            raise NotifyError(
                f"{answer}, a redirect{where}: a webhook's redirect is not followed (a redirected POST can lose "
                "its message); put the URL it redirects to in notify.yaml"
            ) from None
        if exc.code in RETRY_STATUSES:
            raise _AskedToWait(answer, _retry_after(exc.headers.get("Retry-After"))) from None
        raise NotifyError(answer) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        secret = settings.url.get_secret_value()
        raise NotifyError(f"webhook {settings.server} is unreachable: {mask(str(reason), [secret])}") from None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Answer a redirect as the failure it is for a webhook: urllib would re-send a POST redirected by 301, 302
    or 303 as a GET without its body, so the message would be lost while the final server answers 200."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@contextmanager
def _smtp_errors(settings: SmtpSettings) -> Iterator[None]:
    """Turn an SMTP or network failure into one NotifyError line naming the server (the password masked)."""
    try:
        yield
    except smtplib.SMTPResponseException as exc:
        text = _decoded(exc.smtp_error if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error))
        raise NotifyError(_smtp_line(settings, f"refused with {exc.smtp_code} {text}")) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(f"{to} ({code} {_decoded(why)})" for to, (code, why) in exc.recipients.items())
        raise NotifyError(_smtp_line(settings, f"refused the recipient {refused}")) from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = " ".join((getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).split())
        if not reason[:2].isupper():  # "Connection refused" reads on after a colon; "SMTP AUTH ..." keeps its case
            reason = reason[:1].lower() + reason[1:]
        raise NotifyError(_smtp_line(settings, reason)) from None


def _smtp_line(settings: SmtpSettings, problem: str) -> str:
    secret = settings.password.get_secret_value() if settings.password else None
    return mask(f"SMTP server {settings.server}: {problem}", [secret])


def _decoded(value: bytes | str) -> str:
    """A server's reply text on one line: a multi-line reply (``550-…`` lines, as Gmail sends) has its lines joined
    with spaces, as smtplib joins them with newlines."""
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    return " ".join(text.split())
