"""JSON-lines logging for log collectors (one JSON object per line on stderr).

>>> import logging, io
>>> stream = io.StringIO()
>>> handler = configure_json_logging(stream)
>>> logging.getLogger("bioplan.runs").info("run finished", extra={"run_id": "r1", "event": "finish"})
>>> line = json.loads(stream.getvalue())
>>> (line["level"], line["message"], line["run_id"])
('INFO', 'run finished', 'r1')
>>> logging.getLogger().removeHandler(handler)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from typing import IO, Any

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonLinesFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", ...extra fields}`` per record."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_json_logging(stream: IO[str] | None = None, level: int = logging.INFO) -> logging.Handler:
    """Replace the root logger's handlers by one JSON-lines handler; returns it."""
    os.environ["BIOPLAN_LOG_JSON"] = "1"  # child processes (the heartbeat) log JSON too
    logging.captureWarnings(True)  # warnings become JSON records instead of plain stderr text
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
