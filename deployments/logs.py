"""Build logs: level inference, secret masking and batched writes.

A build may print tens of thousands of lines. ``LogWriter`` numbers them, keeps them in memory
and writes them with one statement per batch (every ``FLUSH_INTERVAL`` or ``BATCH_SIZE``
lines, and every ``QUIET_FLUSH_INTERVAL`` while only a few lines wait, so a worker that dies
takes few with it), then announces the stored batch to the deployment's group. Persist first,
then broadcast: a client that missed the broadcast reads the same lines back. On PostgreSQL a
batch is one ``COPY`` (several times cheaper than an INSERT of model instances for a burst of
lines); pending lines are plain tuples until then.

A builder's writer rides out a database restart: while the database is away its lines stay in
memory, in order, and are stored with their numbers when it is back (a batch whose insert may
have gone through before the connection broke is inserted again skipping the rows already
there, so no line is lost or stored twice).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from contextlib import contextmanager
from itertools import repeat

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from deployments import events
from deployments.models import LogLine
from deployments.outages import DATABASE_ERRORS, Outage

FLUSH_INTERVAL = 0.1  # seconds a line may wait before it is stored and sent
# A quiet build (a few lines pending) is stored sooner, so a worker that dies loses less.
QUIET_FLUSH_INTERVAL = 0.02
QUIET_BATCH = 100
BATCH_SIZE = 2000
OUTAGE_RETRY = 0.25  # seconds between attempts to store lines while the database is away
MAX_LINE_CHARS = 4000
MASK = "••••••"

# Errors named as such anywhere; on stderr, failure words count too.
_ERROR = re.compile(
    r"((?i:^\s*(error|fatal)\b)|\bERR!|^Traceback \(most recent call last\)|\bERROR\b)"
)
_ERROR_STDERR = re.compile(r"\b(error|failed|failure|exception|cannot|could not)\b", re.I)
_WARNING = re.compile(r"\b(warn|warning|deprecated|deprecation)\b", re.I)


# Every pattern above matches only a line holding one of these (lower-cased): most lines of a
# build hold none, and looking for them in the lower-cased text (in a whole chunk of lines at
# once) is much cheaper than the searches (a case-blind regex costs ~10 µs a line).
CLUES = (
    "err",
    "fatal",
    "traceback",
    "warn",
    "deprecat",
    "fail",
    "exception",
    "cannot",
    "could not",
)


def _has_clue(text: str) -> bool:
    low = text.lower()
    return any(clue in low for clue in CLUES)


def infer_level(message: str, stream: str = "stdout") -> str:
    """info, warning or error, from what the line says and which stream printed it."""
    if not _has_clue(message):
        return LogLine.Level.INFO
    if _ERROR.search(message):
        return LogLine.Level.ERROR
    if stream == "stderr" and _ERROR_STDERR.search(message):
        return LogLine.Level.ERROR
    if _WARNING.search(message):
        return LogLine.Level.WARNING
    return LogLine.Level.INFO


# Values too common to be anyone's secret; masking them would only garble the log.
NOT_SECRET = {"production", "development", "staging", "test", "true", "false", "yes", "no"}


def secrets_pattern(secrets: Iterable[str]) -> re.Pattern | None:
    """A pattern matching every environment value (3+ characters) worth masking, or None."""
    values = sorted(
        {s for s in secrets if s and len(s) >= 3 and s.lower() not in NOT_SECRET},
        key=len,
        reverse=True,
    )
    return re.compile("|".join(re.escape(v) for v in values)) if values else None


def masker(secrets: Iterable[str]):
    """A function replacing every environment value (3+ characters) in a line by a mask."""
    pattern = secrets_pattern(secrets)
    if pattern is None:
        return lambda text: text
    return lambda text: pattern.sub(MASK, text)


def next_seq(deployment_id) -> int:
    last = LogLine.objects.filter(deployment_id=deployment_id).aggregate(m=Max("seq"))["m"]
    return (last or 0) + 1


class LogWriter:
    """Numbers, masks, stores in batches and broadcasts one deployment's log lines.

    Only one writer runs per deployment at a time (the builder holding the claim; or a service
    acting on a deployment no builder holds), so numbering from the stored maximum is safe.
    With an ``outage``, a flush that finds the database away keeps the lines for the next one
    (``DatabaseAway`` once the outage outlasts its patience); without, it raises.
    """

    def __init__(
        self,
        deployment_id,
        *,
        secrets: Iterable[str] = (),
        max_lines: int = 0,
        outage: Outage | None = None,
    ):
        self.deployment_id = deployment_id
        self.outage = outage
        self.unsure = False  # an insert was cut off: some of the pending rows may be stored
        self.secrets = secrets_pattern(secrets)
        self.seq = next_seq(deployment_id)
        self.pending: list[Pending] = []
        self.last_flush = time.monotonic()
        self.max_lines = max_lines or settings.BUILD_LOG_MAX_LINES
        self.written = self.seq - 1
        self.truncated = False

    def write(self, message: str, *, level: str | None = None, stream: str = "stdout") -> None:
        self.write_lines([message.rstrip("\r\n")], level=level, stream=stream)

    def write_lines(
        self, messages: list[str], *, level: str | None = None, stream: str = "stdout"
    ) -> None:
        """Write several lines (without their line ends) read together: what ``write`` does to
        each, with the cheap checks made once over them all (a build prints thousands of lines
        a second, and most hold no secret, no control character and no clue to a level)."""
        if len(messages) > BATCH_SIZE:  # a read of many short lines: batches stay as large
            for at in range(0, len(messages), BATCH_SIZE):
                self.write_lines(messages[at : at + BATCH_SIZE], level=level, stream=stream)
            return
        room = self.max_lines - self.written
        overflow = len(messages) > room
        if overflow:
            messages = messages[: max(room, 0)]
        if messages:
            text = "\n".join(messages)
            if "\x00" in text:  # PostgreSQL text cannot hold NUL
                messages = [m.replace("\x00", "\ufffd") for m in messages]
            if self.secrets is not None and self.secrets.search(text):
                messages = [self.secrets.sub(MASK, m) for m in messages]
            if max(map(len, messages)) > MAX_LINE_CHARS:
                messages = [
                    m if len(m) <= MAX_LINE_CHARS else m[:MAX_LINE_CHARS] + " …" for m in messages
                ]
            if level is not None:
                levels = repeat(level)
            elif _has_clue(text):
                levels = [infer_level(m, stream) for m in messages]
            else:
                levels = repeat(LogLine.Level.INFO)
            self._extend(messages, levels)
        if overflow and not self.truncated:
            self.truncated = True
            self._extend(
                [f"The log is longer than {self.max_lines} lines; further lines are not kept."],
                [LogLine.Level.WARNING],
            )
        self.maybe_flush()

    def _extend(self, messages: list[str], levels: Iterable[str]) -> None:
        first, now = self.seq, timezone.now()  # lines read together share their time
        self.pending.extend(zip(range(first, first + len(messages)), levels, messages, repeat(now)))
        self.seq += len(messages)
        self.written += len(messages)

    def maybe_flush(self) -> None:
        if not self.pending:
            return
        waited = time.monotonic() - self.last_flush
        if self.outage is not None and self.outage.since is not None and waited < OUTAGE_RETRY:
            return
        if (
            len(self.pending) >= BATCH_SIZE
            or waited >= FLUSH_INTERVAL
            or (len(self.pending) <= QUIET_BATCH and waited >= QUIET_FLUSH_INTERVAL)
        ):
            self.flush()

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        if not self.pending:
            return
        if self.outage is None:
            self.store()
        else:
            self.outage.attempt(self.store)

    def store(self) -> None:
        """Store the pending lines now, then announce them; raises if the database is away."""
        if not self.pending:
            return
        try:
            _insert(self.deployment_id, self.pending, unsure=self.unsure)
        except DATABASE_ERRORS:
            self.unsure = True
            raise
        batch, self.pending, self.unsure = self.pending, [], False
        events.log_lines_published(self.deployment_id, batch[0][0], frames(batch))

    @contextmanager
    def rewind_on_error(self):
        """Forget the lines written inside the block if it fails (its transaction rolled
        back), so a retried block writes them again with the same numbers."""
        saved = (list(self.pending), self.seq, self.written, self.truncated)
        try:
            yield
        except BaseException:
            self.pending, self.seq, self.written, self.truncated = saved
            self.unsure = True
            raise


Pending = tuple  # (seq, level, message, timestamp) of a line not stored yet

COLUMNS = ("deployment", "seq", "level", "message", "timestamp")


def _copy_statement() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(LogLine._meta.get_field(name).column) for name in COLUMNS)
    return f"COPY {quote(LogLine._meta.db_table)} ({columns}) FROM STDIN"


def _insert(deployment_id, lines: list[Pending], *, unsure: bool) -> None:
    """Store ``lines``. ``unsure``: some may be stored already (an insert cut off by a lost
    connection), and those are skipped."""
    if connection.vendor == "postgresql" and not unsure:
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,  # psycopg's errors as Django's, as for queries
            cursor.cursor.copy(_copy_statement()) as copy,
        ):
            copy.write(_copy_text(deployment_id, lines))
        return
    if unsure:
        LogLine.objects.bulk_create(
            (
                LogLine(
                    deployment_id=deployment_id, seq=seq, level=level, message=msg, timestamp=ts
                )
                for seq, level, msg, ts in lines
            ),
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )
        return
    # SQLite (the embedded default): one prepared INSERT run for every row, the values
    # converted as the fields would convert them, without a model instance per line.
    fields = [LogLine._meta.get_field(name) for name in COLUMNS]
    deployment, stamp = fields[0].get_db_prep_save(deployment_id, connection), fields[-1]
    stamps = {id(ts): ts for *_, ts in lines}  # lines read together share one
    stamps = {key: stamp.get_db_prep_save(ts, connection) for key, ts in stamps.items()}
    rows = [
        (deployment, seq, level, message, stamps[id(timestamp)])
        for seq, level, message, timestamp in lines
    ]
    quote = connection.ops.quote_name
    table, columns = quote(LogLine._meta.db_table), ", ".join(quote(f.column) for f in fields)
    insert = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608 - names from the model
    # One transaction for the batch: in autocommit mode SQLite commits every row on its own.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(insert, rows)


# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(deployment_id, lines: list[Pending]) -> str:
    """The rows of ``lines`` in COPY's text format, written in one call (``write_row`` costs
    about a microsecond a row); the lines of a chunk share one timestamp, formatted once."""
    deployment = str(deployment_id)
    messages = [line[2] for line in lines]
    if _COPY_SPECIAL.search("".join(messages)):
        messages = [m.translate(_COPY_ESCAPES) for m in messages]
    rows, last, stamp = [], None, ""
    for (seq, level, _, timestamp), message in zip(lines, messages, strict=True):
        if timestamp is not last:
            last, stamp = timestamp, timestamp.isoformat()
        rows.append(f"{deployment}\t{seq}\t{level}\t{message}\t{stamp}\n")
    return "".join(rows)


def frames(lines: list[Pending]) -> list[str]:
    """Each line's ``log`` event as the JSON text every client receives: encoded once, here,
    and carried as it is by the channel layer and the web processes."""
    out, last, stamp = [], None, ""
    for seq, level, message, timestamp in lines:
        if timestamp is not last:
            last, stamp = timestamp, events.timestamp_text(timestamp)
        out.append(events.log_frame(seq, level, message, stamp))
    return out


def payload(seq: int, level: str, message: str, timestamp) -> dict:
    """A line as the API and older channel messages carry it."""
    return {
        "seq": seq,
        "timestamp": events.timestamp_text(timestamp),
        "level": level,
        "message": message,
    }


def line_payload(line: LogLine) -> dict:
    return payload(line.seq, line.level, line.message, line.timestamp)


def log_append(deployment_id, message: str, level: str = LogLine.Level.INFO) -> None:
    """One line written at once, for services acting outside a build (cancel, reaper)."""
    writer = LogWriter(deployment_id)
    writer.write(message, level=level)
    writer.flush()
