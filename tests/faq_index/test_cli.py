"""The command line as operators and benchmarks use it: real subprocesses."""

import json
import subprocess
import sys

from faq_index.store import current_version


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "faq_index", *args], input=stdin, capture_output=True, timeout=300
    )


def test_query_writes_one_json_object_per_input_line(small_index):
    lines = [
        b"Where is my order?",
        "退款多久到账".encode(),
        b"   ",
        b"\xff\xfe",
        ("x" * 10_240).encode(),
        b"How do I reset my password?",
    ]
    done = run_cli(
        "query", "--index", str(small_index), "--top-k", "2", stdin=b"\n".join(lines) + b"\n"
    )
    assert done.returncode == 1, done.stderr  # some lines failed
    outputs = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(outputs) == len(lines)
    first = outputs[0]
    assert set(first) == {"query", "decision", "results"}
    assert first["query"] == "Where is my order?" and first["decision"] == "answer"
    assert first["results"][0]["id"] == "order_track" and len(first["results"]) == 2
    assert set(first["results"][0]) == {"id", "score"}
    assert outputs[1]["results"][0]["id"] == "refund_time"
    assert "empty" in outputs[2]["error"]
    assert "UTF-8" in outputs[3]["error"]
    assert "limit" in outputs[4]["error"]
    assert outputs[5]["results"][0]["id"] == "password_reset"


def test_build_then_rebuild_is_a_no_op(tmp_path, faq_dir):
    out = tmp_path / "index"
    built = run_cli("build", "--source", str(faq_dir), "--out", str(out))
    assert built.returncode == 0, built.stderr
    assert b" built: 4 entries, 32 question variants" in built.stderr
    again = run_cli("build", "--source", str(faq_dir), "--out", str(out))
    assert again.returncode == 0
    assert b"up to date, nothing rebuilt" in again.stderr


def test_malformed_source_fails_and_leaves_the_index_untouched(tmp_path, faq_dir, small_index):
    out = tmp_path / "index"
    assert run_cli("build", "--source", str(faq_dir), "--out", str(out)).returncode == 0
    before = current_version(out)
    files_before = sorted(p.name for p in (out / "versions").iterdir())
    (faq_dir / "broken.yml").write_text(
        "entries:\n  - id: broken_entry\n    category: c\n    en: {questions: [], answer: x}\n"
    )
    failed = run_cli("build", "--source", str(faq_dir), "--out", str(out))
    assert failed.returncode == 2
    message = failed.stderr.decode()
    assert "broken.yml" in message and "broken_entry" in message
    assert current_version(out) == before
    assert sorted(p.name for p in (out / "versions").iterdir()) == files_before
