"""Keep secrets out of logs: the dashboard's ?token= must not land in the HTTP access log."""

import logging
import re

_TOKEN_PARAM = re.compile(r"([?&]token=)[^&\s]*", re.IGNORECASE)


def redact_tokens(text: str) -> str:
    return _TOKEN_PARAM.sub(r"\1[redacted]", text)


class RedactTokenFilter(logging.Filter):
    """Rewrites ?token=... in a record's message arguments (uvicorn puts the path there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        return True


def install_redaction(logger_name: str = "uvicorn.access") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokenFilter) for f in logger.filters):
        logger.addFilter(RedactTokenFilter())
