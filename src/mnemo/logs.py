"""Structured JSON logs with the request id; no keys or message text at info level."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from mnemo.api.middleware import request_id


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_config(level: str, json_logs: bool) -> dict[str, Any]:
    """A logging dictConfig for uvicorn and mnemo alike."""
    formatter = (
        {"()": JsonFormatter} if json_logs else {"format": "%(levelname)s %(name)s %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stderr",
    }
    loggers = {name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
               for name in ("mnemo", "uvicorn", "uvicorn.error", "uvicorn.access")}  # fmt: skip
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": loggers,
    }
