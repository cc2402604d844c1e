"""Each benchmark's section of bench/RESULTS.md, between markers of its own."""

from __future__ import annotations

from bench.results_file import markers, write_section


def test_a_section_is_appended_then_replaced_in_place(tmp_path):
    begin, end = markers("bench/a.py")
    path = tmp_path / "RESULTS.md"
    path.write_text("# other\n", encoding="utf-8")
    write_section(path, "bench/a.py", "first")
    assert path.read_text(encoding="utf-8") == f"# other\n\n{begin}\nfirst\n{end}\n"
    path.write_text(path.read_text(encoding="utf-8") + "\n## after\n", encoding="utf-8")
    write_section(path, "bench/a.py", "second")
    assert path.read_text(encoding="utf-8") == f"# other\n\n{begin}\nsecond\n{end}\n\n## after\n"


def test_other_benchmarks_sections_are_kept(tmp_path):
    path = tmp_path / "RESULTS.md"
    write_section(path, "bench/a.py", "## A\nfirst")
    write_section(path, "bench/b.py", "## B")
    write_section(path, "bench/a.py", "## A\nsecond")
    text = path.read_text(encoding="utf-8")
    assert "second" in text and "first" not in text and "## B" in text
    assert text.index("## A") < text.index("## B")
