"""The run's files are the owner's only: umask 077, and what exists already is tightened."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from bot.runtime.private_files import private_paths, tighten
from bot.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make(path: Path, permissions: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    path.chmod(permissions)
    return path


def test_var_the_run_dir_and_the_databases_lose_group_and_other_permissions(tmp_path):
    project = tmp_path / "project"
    var = project / "var"
    settings = Settings(
        run_dir=var / "run", database_url=f"sqlite:///{var / 'app.db'}", tracker_store_url=""
    )
    files = [
        make(var / name, 0o644)
        for name in ("app.db", "app.db-wal", "app.db-shm", "rasa_tracker.db", "rasa_tracker.db-wal")
    ]
    log = make(var / "run" / "rasa.log", 0o664)
    other = make(var / "faq_index" / "CURRENT", 0o644)  # inside var/, which closes it
    for directory in (var, var / "run", project):
        directory.chmod(0o755)
    changed = tighten(settings, project)
    assert {mode(p) for p in [*files, log]} == {0o600}
    assert mode(var) == 0o700 and mode(var / "run") == 0o700
    assert mode(project) == 0o755  # the project directory itself is not ours to close
    assert mode(other) == 0o644 and other not in changed
    assert tighten(settings, project) == []  # nothing left to do


def test_directories_outside_the_project_are_left_as_they_are(tmp_path):
    shared = tmp_path / "srv" / "shop"
    shared.mkdir(parents=True)
    shared.chmod(0o755)
    database = make(shared / "app.db", 0o644)
    settings = Settings(
        run_dir=tmp_path / "run", database_url=f"sqlite:///{database}", tracker_store_url=""
    )
    paths = private_paths(settings, tmp_path / "project")
    assert shared.resolve() not in paths and database.resolve() in paths
    tighten(settings, tmp_path / "project")
    assert mode(shared) == 0o755 and mode(database) == 0o600


def test_postgresql_has_no_files_to_tighten(tmp_path):
    settings = Settings(run_dir=tmp_path / "run", database_url="postgresql://u@h/db")
    assert private_paths(settings, tmp_path) == [(tmp_path / "run").resolve()]


def test_the_umask_reaches_children(tmp_path):
    code = (
        "import subprocess, sys; from bot.runtime.private_files import private_umask;"
        "private_umask();"
        "subprocess.run(['sh', '-c', 'echo x > ' + sys.argv[1]], check=True)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "f")], check=True, cwd=os.getcwd())
    assert mode(tmp_path / "f") == 0o600
