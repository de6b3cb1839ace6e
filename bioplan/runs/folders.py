"""Run folders that appear atomically: complete, or not at all.

Outputs are written into a hidden temporary folder in the same parent (``.partial-<run id>-*``),
every file and the folder are fsync'ed, and the folder is renamed into place (one ``rename``
system call, atomic on POSIX file systems). A process killed while writing leaves only the hidden
temporary folder, which :func:`remove_abandoned` deletes on the next run once its owner is gone.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

PARTIAL_PREFIX = ".partial-"


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (creations, renames) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (bottom-up), then ``root`` itself."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))


@contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success it becomes ``final`` atomically.

    On an exception the temporary folder is removed and ``final`` is never created.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_folder(root / "run-1") as tmp:
    ...     _ = (tmp / "summary.json").write_text("{}")
    >>> sorted(p.name for p in root.iterdir())
    ['run-1']
    """
    final = Path(final)
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        msg = f"run folder already exists: {final}"
        raise FileExistsError(msg)
    tmp = Path(tempfile.mkdtemp(prefix=f"{PARTIAL_PREFIX}{final.name}-{os.getpid()}-", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a run folder is an ordinary folder
        fsync_tree(tmp)
        os.rename(tmp, final)  # atomic; fails if `final` appeared meanwhile
        fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_abandoned(parent: Path) -> list[Path]:
    """Delete ``.partial-*`` folders left by killed writers (whose process no longer exists)."""
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for path in parent.glob(f"{PARTIAL_PREFIX}*"):
        pid_text = path.name.rsplit("-", 2)[-2] if path.name.count("-") >= 2 else ""
        if pid_text.isdigit() and psutil.pid_exists(int(pid_text)):
            continue  # its writer may still be at work
        shutil.rmtree(path, ignore_errors=True)
        log.warning("removed an abandoned partial run folder: %s", path)
        removed.append(path)
    return removed


QUARANTINE = ".orphaned"
"""Sub-folder of the output root that receives run folders whose run never completed."""


def quarantine_orphans(root: Path, incomplete: set[str]) -> list[Path]:
    """Move run folders of ``incomplete`` runs (recorded ``failed`` without outputs: the process
    was killed after renaming its folder into place but before completing its row) into
    ``root/.orphaned/``, so every folder left in ``root`` belongs to a completed run."""
    moved: list[Path] = []
    if not root.is_dir():
        return moved
    for run_id in sorted(incomplete):
        folder = root / run_id
        if not folder.is_dir():
            continue
        target = root / QUARANTINE / run_id
        target.parent.mkdir(exist_ok=True)
        os.rename(folder, target)
        fsync_dir(root)
        log.warning("run folder %s belongs to run %s, which never completed (killed after writing "
                    "its outputs): moved to %s", folder, run_id, target,
                    extra={"event": "run.quarantined", "run_id": run_id})
        moved.append(target)
    return moved

