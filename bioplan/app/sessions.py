"""A dashboard session's scenarios and plans on disk, so a browser reload gets them back.

One pickle per session in a folder (``$BIOPLAN_SESSION_DIR``, else
``~/.cache/bioplan/dashboard-sessions``), written atomically (temp file, fsync, ``os.replace``);
the session id travels in the page's URL (``?session=<id>``). Only this machine's dashboard
server reads these files: they are pickles of its own objects, never user uploads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
"""What a session id looks like (anything else in the URL is ignored)."""


def default_root() -> Path:
    """Where sessions are kept: ``$BIOPLAN_SESSION_DIR`` or ``~/.cache/bioplan/dashboard-sessions``."""
    env = os.environ.get("BIOPLAN_SESSION_DIR")
    return Path(env) if env else Path.home() / ".cache" / "bioplan" / "dashboard-sessions"


def new_session_id() -> str:
    """A fresh random session id."""
    return secrets.token_urlsafe(12)


class SessionFolder:
    """Save and restore the state of dashboard sessions by id."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()

    def _path(self, session_id: str) -> Path | None:
        return self.root / f"{session_id}.pkl" if SESSION_ID.match(session_id) else None

    def save(self, session_id: str, state: dict[str, Any]) -> None:
        """Write ``state`` (picklable values) for ``session_id``, replacing what was there."""
        path = self._path(session_id)
        if path is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".session-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def load(self, session_id: str) -> dict[str, Any] | None:
        """The saved state of ``session_id``, or None (unknown id, or a file from another version)."""
        path = self._path(session_id)
        if path is None or not path.exists():
            return None
        try:
            with path.open("rb") as fh:
                state = pickle.load(fh)
        except Exception as err:  # an older code version's objects: start afresh
            log.warning("cannot restore dashboard session %s: %s", session_id, err)
            return None
        return state if isinstance(state, dict) else None
