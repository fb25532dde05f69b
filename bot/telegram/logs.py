"""Keep the bot token out of logs.

Why: httpx logs every request URL at INFO, and Bot API URLs contain the token
(`…/bot<TOKEN>/sendMessage`). We raise httpx/httpcore to WARNING and, as a
second line of defence, redact the token from every record our log handlers
emit (including tracebacks).
"""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("httpx", "httpcore")
MASK = "<TOKEN>"


class RedactToken(logging.Filter):
    """Replaces the token in a record's message and arguments by a mask."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, MASK)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if self.token in text:
                record.exc_text = text.replace(self.token, MASK)
        return True


def quiet_http_loggers() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def install_token_redaction(token: str) -> None:
    """Add the redacting filter to every handler of the root logger (idempotent)."""
    quiet_http_loggers()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactToken) and f.token == token for f in handler.filters):
            handler.addFilter(RedactToken(token))
