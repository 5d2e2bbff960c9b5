"""The weekly digest to owners (``benefits digest``, ``benefits run --digest``): each benefit owner hears
about their benefits that need a look, by e-mail and/or on a chat webhook (``benefits.notify``).

A digest is a list of :class:`Item` per owner. Each item source in :data:`SOURCES` reads the
benefits' positions (``benefits.status.positions``, the reading `benefits status` shows) and
yields the items it finds: a re-baselining or a status change since the previous forecast run, data gone stale, a
forecast that failed, actions past their due date (``benefits.commentary``), rows of the benefit's
metric held in quarantine. A new kind of news is one more source function; the digest's text, its
delivery and the CLI stay as they are.

Asked to (``--attach-pack``, or ``attach_pack: true`` in notify.yaml), every e-mail carries the
steering pack as PDF (``benefits.report``, printed once by headless Chromium, ``benefits.report_pdf``);
the webhook's text has no attachment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from benefits.errors import BenefitsWarning, ConfigError
from benefits.notify import (
    NOTIFY_FILE,
    Attachment,
    NotifyError,
    NotifySettings,
    SmtpSettings,
    WebhookSettings,
    load_notify,
    post_webhook,
    send_email,
    smtp_session,
)
from benefits.status import REBASELINED, Position, positions, rebaseline_text
from benefits.store import deliveries, repository
from benefits.store.locks import store_lock
from benefits.workspace import Workspace

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Item:
    """One thing a benefit's owner should know about it this week."""

    benefit: str  # the benefit's key
    name: str  # the benefit's name
    kind: str  # what happened, in words: "status changed", "data stale", "forecast failed", "overdue actions", …
    text: str  # one line: what and where to look


@dataclass(frozen=True)
class Digest:
    """One owner's items, grouped by benefit when written."""

    owner: str
    items: list[Item]

    def subject(self, as_of: dt.date) -> str:
        """The e-mail's subject line (short: the portfolio is named in the text)."""
        benefits = len({item.benefit for item in self.items})
        verb = "needs" if benefits == 1 else "need"
        return f"Benefits digest {as_of.isoformat()}: {_count(benefits, 'benefit')} of yours {verb} a look"

    def text(self, portfolio: str, as_of: dt.date) -> str:
        """The message: a greeting, then each benefit with its items."""
        lines = [f"{self.owner}, your benefits in {portfolio} as of {as_of.isoformat()}:"]
        for key in dict.fromkeys(item.benefit for item in self.items):
            mine = [item for item in self.items if item.benefit == key]
            lines += ["", f"{mine[0].name} ({key})"]
            lines += [f"  - {item.kind}: {item.text}" for item in mine]
        lines += ["", "`benefits status` or the dashboard shows every benefit."]
        return "\n".join(lines)


ItemSource = Callable[[Session, list[Position]], Iterable[Item]]


def status_changes(session: Session, found: list[Position]) -> Iterator[Item]:
    """Benefits whose status changed since the previous forecast run (a move to stale data is its own item)."""
    for p in found:
        row = p.row
        if row.previous_status not in (None, row.status) and row.status != "data_stale":
            yield Item(
                row.benefit,
                row.name,
                "status changed",
                f"{_words(row.previous_status)} → {_words(row.status)}, {_likely(p)}: {row.message}",
            )


def rebaselined(session: Session, found: list[Position]) -> Iterator[Item]:
    """Benefits re-baselined since the previous forecast run: what moved, who, when and why."""
    for p in found:
        if p.row.change == REBASELINED:
            yield Item(p.row.benefit, p.row.name, "re-baselined", rebaseline_text(p.row))


def stale_data(session: Session, found: list[Position]) -> Iterator[Item]:
    """Benefits whose metric stopped reporting (``benefits.staleness``)."""
    for p in found:
        if p.row.status == "data_stale":
            yield Item(p.row.benefit, p.row.name, "data stale", p.row.message)


def failed_forecasts(session: Session, found: list[Position]) -> Iterator[Item]:
    """Benefits whose latest forecast failed, with the reason."""
    for p in found:
        if p.row.status == "failed":
            yield Item(p.row.benefit, p.row.name, "forecast failed", p.row.message)


def quarantined_rows(session: Session, found: list[Position]) -> Iterator[Item]:
    """Benefits whose metric has rows held in quarantine."""
    held = repository.held_rows_by_metric(session, {p.row.metric for p in found})
    for p in found:
        count = held.get(p.row.metric, 0)
        if count:
            rows = "row" if count == 1 else "rows"
            text = f"{count:,} {rows} of {p.row.metric} held in quarantine (`benefits quarantine list`)"
            yield Item(p.row.benefit, p.row.name, "quarantined rows", text)


def overdue_actions(session: Session, found: list[Position]) -> Iterator[Item]:
    """Benefits with open actions past their due date (``benefits.commentary``)."""
    for p in found:
        count = p.row.overdue_actions
        if count:
            actions = "action is" if count == 1 else "actions are"
            text = f"{count} {actions} past the due date (`benefits action list --overdue`)"
            yield Item(p.row.benefit, p.row.name, "overdue actions", text)


#: Every source of items, in the order an owner reads them.
SOURCES: tuple[ItemSource, ...] = (
    rebaselined,
    status_changes,
    failed_forecasts,
    stale_data,
    overdue_actions,
    quarantined_rows,
)


def digests(session: Session, as_of: dt.date, sources: Iterable[ItemSource] = SOURCES) -> list[Digest]:
    """Every owner with at least one item at ``as_of``, in the register's order of their first benefit."""
    found = positions(session, as_of)
    owner_of = {p.row.benefit: p.row.owner for p in found}
    items = [item for source in sources for item in source(session, found)]
    order = {p.row.benefit: n for n, p in enumerate(found)}
    items.sort(key=lambda item: order[item.benefit])  # stable: each benefit's items keep the sources' order
    by_owner: dict[str, list[Item]] = {}
    for item in items:
        by_owner.setdefault(owner_of[item.benefit], []).append(item)
    return [Digest(owner, mine) for owner, mine in by_owner.items()]


def sending_settings(ws: Workspace) -> NotifySettings:
    """notify.yaml, checked to name an SMTP server or a webhook (ConfigError otherwise) and, when it asks for the
    pack to be attached, that Chromium is there to print it; `benefits run --digest` reads it before the run,
    so a broken file fails before an hour of work."""
    settings = load_notify(ws.config_dir)
    if settings.smtp is None and settings.webhook is None:
        raise ConfigError(
            f"{ws.config_dir / NOTIFY_FILE}: no smtp server or webhook to send the digest through "
            "(docs/pack.md shows an example; `benefits digest --dry-run` prints the digest)"
        )
    if settings.attach_pack:
        pack_printer(ws, settings)
    return settings


def pack_printer(ws: Workspace, settings: NotifySettings, chromium: str | None = None) -> Path:
    """The Chromium that prints the pack attached to each e-mail (``chromium``, else ``BENEFITS_CHROMIUM``, else
    one on the PATH); ConfigError when notify.yaml has no SMTP server, BenefitsError when Chromium is missing."""
    if settings.smtp is None:
        raise ConfigError(
            f"{ws.config_dir / NOTIFY_FILE}: the steering pack is attached to e-mails, and there is no smtp "
            "server to send them through"
        )
    from benefits.report_pdf import CHROMIUM_ENV, find_chromium

    return find_chromium(chromium or os.environ.get(CHROMIUM_ENV))


def send_digest(
    ws: Workspace,
    as_of: dt.date,
    echo: Echo,
    dry_run: bool = False,
    settings: NotifySettings | None = None,
    attach_pack: bool = False,
    chromium: str | None = None,
) -> None:
    """Send each owner their digest at ``as_of`` by e-mail and/or webhook (``settings``, default notify.yaml);
    with ``dry_run``, print what would be sent instead. With ``attach_pack`` (or notify.yaml's ``attach_pack``)
    every e-mail carries the steering pack at ``as_of`` as PDF, printed by ``chromium`` (see
    :func:`pack_printer`, checked before the store is read). NotifyError (one line naming the server) when
    delivery fails."""
    if settings is None:
        settings = load_notify(ws.config_dir) if dry_run else sending_settings(ws)
    attach = attach_pack or settings.attach_pack
    browser = pack_printer(ws, settings, chromium) if attach and not dry_run else None
    ws.ensure_current()
    with ws.sessions() as session:
        found = digests(session, as_of)
        stored = repository.portfolio(session)
        html = _pack_html(session, as_of) if browser is not None and found else None
    portfolio = stored.name if stored else "Portfolio"
    if not found:
        echo(f"digest: no owner has news at {as_of.isoformat()}; nothing sent")
        return
    if dry_run:
        for digest in found:
            echo(_preview(digest, settings, portfolio, as_of, attach))
        return
    attachments = (_pack_pdf(html, browser, as_of),) if html is not None and browser is not None else ()
    _deliver(ws, found, settings, portfolio, as_of, echo, attachments)


def pack_filename(as_of: dt.date) -> str:
    """The name of the steering pack attached to the digest's e-mails."""
    return f"steering-pack-{as_of.isoformat()}.pdf"


def _pack_html(session: Session, as_of: dt.date) -> str:
    from benefits.report import steering_pack

    return steering_pack(session, as_of)


def _pack_pdf(html: str, chromium: Path, as_of: dt.date) -> Attachment:
    """The steering pack printed to PDF once, for every e-mail."""
    from benefits.report_pdf import print_pdf

    with tempfile.TemporaryDirectory(prefix="benefits-digest-") as folder:
        out = Path(folder) / pack_filename(as_of)
        print_pdf(html, out, chromium)
        return Attachment(out.name, out.read_bytes(), "application/pdf")


@dataclass(frozen=True)
class _Send:
    """One digest to deliver one way: ``channel`` :data:`EMAIL` to an address or :data:`WEBHOOK` to its server."""

    digest: Digest
    channel: str
    recipient: str  # the e-mail address, or the webhook's scheme and host
    subject: str
    text: str
    content: str  # see _content


@dataclass
class _Outcome:
    failures: list[str]
    missed: list[str]  # owners not sent their digest


def _deliver(
    ws: Workspace,
    found: list[Digest],
    settings: NotifySettings,
    portfolio: str,
    as_of: dt.date,
    echo: Echo,
    attachments: tuple[Attachment, ...] = (),
) -> None:
    """Send each digest by e-mail and to the webhook, each delivery recorded as it succeeds (its own transaction)
    and one already recorded for ``as_of`` (the same recipient, subject and text) skipped: run again after a
    partial failure, it sends only what was not delivered. One delivery at a time: a digest started while another
    delivers waits for it (:data:`DELIVERY_LOCK`), then skips what that one delivered. A refused recipient does
    not stop the other e-mails; a server that fails stops its channel. NotifyError at the end, one line: the first
    failure, and who was not sent their digest."""
    planned = _plan(found, settings, portfolio, as_of)

    def waiting() -> None:
        echo(WAITING)

    with ws.sessions.begin() as holder, store_lock(holder, *DELIVERY_LOCK, waiting):
        _send_planned(ws, planned, settings, as_of, echo, attachments)


DELIVERY_LOCK = ("digest", "deliveries")
"""The lock held while digests are delivered (:func:`benefits.store.locks.store_lock`; a SQLite store's lock file
is ``<database>.digest-deliveries.lock``): two digests at the same moment would both find a digest not yet
delivered and both send it."""
WAITING = "another `benefits digest` is delivering; waiting for it to finish (what it delivers is not sent again)"


def _plan(found: list[Digest], settings: NotifySettings, portfolio: str, as_of: dt.date) -> list[_Send]:
    """Each digest to send, by e-mail to its owner's address (a warning for an owner without one) and to the
    webhook."""
    planned: list[_Send] = []
    if settings.smtp is not None:
        for digest in found:
            address = settings.address(digest.owner)
            if address is None:
                warnings.warn(_no_address(digest.owner), BenefitsWarning, stacklevel=2)
            else:
                planned.append(_planned(digest, EMAIL, address, address, portfolio, as_of))
    if settings.webhook is not None:
        url, server = settings.webhook.url.get_secret_value(), settings.webhook.server
        planned += [_planned(d, WEBHOOK, server, url, portfolio, as_of) for d in found]
    return planned


def _send_planned(
    ws: Workspace,
    planned: list[_Send],
    settings: NotifySettings,
    as_of: dt.date,
    echo: Echo,
    attachments: tuple[Attachment, ...],
) -> None:
    """Send what ``planned`` holds that was not delivered before (call holding :data:`DELIVERY_LOCK`)."""
    with ws.sessions() as session:
        sent_before = deliveries.delivered(session, as_of, (send.content for send in planned))
    to_send = []
    for send in planned:
        if send.content in sent_before:
            when = _utc(sent_before[send.content])
            went = _went(send.channel, send.recipient)
            echo(f"digest for {send.digest.owner} already {went} at {when} (the same news): not sent again")
        else:
            to_send.append(send)

    def kept(send: _Send) -> None:
        with ws.sessions.begin() as session:
            deliveries.record(session, as_of, send.digest.owner, send.channel, send.recipient, send.content)

    outcome = _Outcome([], [])
    emails = [send for send in to_send if send.channel == EMAIL]
    if emails and settings.smtp is not None:
        _email(emails, settings.smtp, attachments, kept, echo, outcome)
    posts = [send for send in to_send if send.channel == WEBHOOK]
    if posts and settings.webhook is not None:
        _post(posts, settings.webhook, kept, echo, outcome)
    if outcome.failures:
        raise NotifyError(_failed(outcome, len(to_send), partial=len(outcome.missed) < len(planned)))


def _email(
    emails: list[_Send],
    smtp: SmtpSettings,
    attachments: tuple[Attachment, ...],
    kept: Callable[[_Send], None],
    echo: Echo,
    outcome: _Outcome,
) -> None:
    """E-mail each digest through one session; a refused one is a failure and the next is sent, unless the
    connection is gone."""
    attached = "".join(f", with {a.filename} ({len(a.content) // 1024} KiB)" for a in attachments)
    try:
        with smtp_session(smtp) as client:
            for n, send in enumerate(emails):
                digest = send.digest
                try:
                    send_email(client, smtp, send.recipient, send.subject, send.text, attachments)
                except NotifyError as exc:
                    outcome.failures.append(str(exc))
                    outcome.missed.append(digest.owner)
                    if getattr(client, "sock", None) is None:  # the connection is gone: the rest cannot go
                        outcome.missed += [later.digest.owner for later in emails[n + 1 :]]
                        return
                    continue
                kept(send)
                items = _count(len(digest.items), "item")
                echo(f"digest e-mailed to {digest.owner} <{send.recipient}>: {items}{attached}")
    except NotifyError as exc:  # connecting, STARTTLS or the login failed: nothing went by e-mail
        outcome.failures.append(str(exc))
        outcome.missed += [send.digest.owner for send in emails]


def _post(
    posts: list[_Send],
    webhook: WebhookSettings,
    kept: Callable[[_Send], None],
    echo: Echo,
    outcome: _Outcome,
) -> None:
    """Post each digest to the webhook; the first failure stops it (the others would fail the same way)."""
    posted = 0
    for n, send in enumerate(posts):
        try:
            post_webhook(webhook, send.text)
        except NotifyError as exc:
            outcome.failures.append(str(exc))
            outcome.missed += [later.digest.owner for later in posts[n:]]
            break
        kept(send)
        posted += 1
    if posted:
        echo(f"digest posted to webhook {webhook.server}: {_count(posted, 'owner')}")


EMAIL, WEBHOOK = "e-mail", "webhook"


def _planned(digest: Digest, channel: str, recipient: str, target: str, portfolio: str, as_of: dt.date) -> _Send:
    """``digest`` to send by ``channel`` to ``recipient`` (``target`` the address or the webhook's whole URL), its
    subject and text rendered once, for sending and for :func:`_content`."""
    subject, text = digest.subject(as_of), digest.text(portfolio, as_of)
    return _Send(digest, channel, recipient, subject, text, _content(target, subject, text))


def _content(target: str, subject: str, text: str) -> str:
    """What identifies one delivery of a digest: where it went (an address, or the webhook's whole URL, which is
    only kept hashed), its subject and its text."""
    return hashlib.sha256("\0".join((target, subject, text)).encode()).hexdigest()


def _utc(moment: dt.datetime) -> str:
    """A stored time in UTC, to the minute (SQLite keeps UTC without a zone)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _went(channel: str, recipient: str) -> str:
    return f"e-mailed to <{recipient}>" if channel == EMAIL else f"posted to webhook {recipient}"


def _failed(outcome: _Outcome, tried: int, partial: bool) -> str:
    """One line: the first failure and, when some digests were delivered (now or before), how many were not
    and to whom, and what to do."""
    failures = outcome.failures
    if not partial:
        return failures[0]
    others = f" (and {_count(len(failures) - 1, 'other failure')})" if len(failures) > 1 else ""
    owners = ", ".join(dict.fromkeys(outcome.missed))
    first = failures[0].rstrip(".")
    return (
        f"{first}{others}; {len(outcome.missed)} of {tried} digests not sent ({owners}): run `benefits digest` "
        "again once fixed, which sends only those (the ones delivered are recorded and not sent twice)"
    )


def _preview(digest: Digest, settings: NotifySettings, portfolio: str, as_of: dt.date, attach: bool) -> str:
    """What would be sent to one owner: where to, the subject, the attachment and the text."""
    address = settings.address(digest.owner)
    ways = []
    if settings.smtp is not None or not settings.webhook:
        ways.append(f"e-mail to {address}" if address else f"no e-mail ({_no_address(digest.owner)})")
    if settings.webhook is not None:
        ways.append(f"webhook {settings.webhook.server}")
    attached = f"attachment: {pack_filename(as_of)} (the steering pack, printed when sent)\n" if attach else ""
    return (
        f"--- to {digest.owner}: {'; '.join(ways)}\n"
        f"subject: {digest.subject(as_of)}\n{attached}\n{digest.text(portfolio, as_of)}\n"
    )


def _no_address(owner: str) -> str:
    return f"no e-mail address for owner {owner!r}: add it under owners: in {NOTIFY_FILE}"


def _likely(p: Position) -> str:
    share = p.row.p_on_time
    return "no probability yet" if share is None else f"{100 * share:.0f}% likely on time"


def _words(status: str | None) -> str:
    """A status as people read it: ``at_risk`` -> ``at risk``."""
    return (status or "").replace("_", " ")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
