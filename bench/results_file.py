"""bench/RESULTS.md: each benchmark writes its own section, between markers of its own, and
leaves the others' sections as they are.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "RESULTS.md"
    >>> write_section(path, "bench/a.py", "## A\\nfirst")
    >>> write_section(path, "bench/b.py", "## B")
    >>> write_section(path, "bench/a.py", "## A\\nsecond")
    >>> print(path.read_text())
    <!-- bench/a.py: begin -->
    ## A
    second
    <!-- bench/a.py: end -->
    <BLANKLINE>
    <!-- bench/b.py: begin -->
    ## B
    <!-- bench/b.py: end -->
    <BLANKLINE>
"""

from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}: begin -->", f"<!-- {name}: end -->"


def write_section(path: Path, name: str, text: str) -> None:
    """Put ``text`` between ``name``'s markers in ``path`` (replacing what was there), or
    append it at the end."""
    begin, end = markers(name)
    section = f"{begin}\n{text.rstrip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        new = head + section + ("\n" + after if after else "")
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
