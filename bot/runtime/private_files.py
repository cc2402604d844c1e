"""Customers' conversations, logs and the run's files are for the owner of the run only.

The supervisor sets umask 077 for itself and its children, so that whatever they create is
private; :func:`tighten` also takes group and other permissions from what exists already
(files of an earlier run, a database migrated by hand): the run directory and the logs and
files in it, the SQLite databases
(application and Rasa's tracker store) with their ``-wal``, ``-shm`` and ``-journal`` files,
and the directories holding them up to the project directory (``var/`` by default). Directories
outside the project directory are not changed (a database in /srv/shop/ leaves /srv/shop/ as
it is); the run directory and database files always are.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.runtime.rasa_stores import tracker_store_url
from bot.settings import DatabaseSettings, Settings

PRIVATE_UMASK = 0o077
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def sqlite_files(database: DatabaseSettings) -> list[Path]:
    """The SQLite database files of this configuration (application, tracker store)."""
    databases = []
    for url in (make_url(database.database_url), tracker_store_url(database)):
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            databases.append(Path(url.database))
    return [db.with_name(db.name + suffix) for db in databases for suffix in SQLITE_SUFFIXES]


def _directories_up_to(path: Path, top: Path) -> list[Path]:
    """``path`` and its parents below ``top``, when ``path`` is inside ``top``."""
    path, top = path.resolve(), top.resolve()
    if path == top or top not in path.parents:
        return []
    return [path, *(p for p in path.parents if top in p.parents)]


def private_paths(settings: Settings, project: Path | None = None) -> list[Path]:
    """What :func:`tighten` changes, directories first."""
    project = project or Path.cwd()
    files, run_dir = sqlite_files(settings.database), settings.supervision.run_dir
    directories = [run_dir.resolve()]
    for path in [run_dir, *files]:
        start = path if path == run_dir else path.parent
        directories += _directories_up_to(start, project)
    unique = list(dict.fromkeys(directories))
    logs = sorted(run_dir.iterdir()) if run_dir.is_dir() else []
    return unique + [f.resolve() for f in files] + [p.resolve() for p in logs if p.is_file()]


def tighten(settings: Settings, project: Path | None = None) -> list[Path]:
    """Remove group and other permissions from the run's files; the paths that changed."""
    changed = []
    for path in private_paths(settings, project):
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                path.chmod(mode & ~0o077)
                changed.append(path)
    return changed


def private_umask() -> int:
    """Make everything this process and its children create private; the previous umask."""
    return os.umask(PRIVATE_UMASK)
