import json

import numpy as np
import pytest

from faq_index import IndexNotFoundError, build_index, load_index, load_sources
from faq_index.store import current_version, fingerprint


def test_build_publishes_a_complete_version(tmp_path, faq_dir, embedder):
    result = build_index(load_sources([faq_dir]), tmp_path / "index", embedder=embedder)
    assert result.built and result.entries == 4 and result.variants == 32
    assert current_version(tmp_path / "index") == result.version
    index = load_index(tmp_path / "index")
    assert index.model == "default"
    assert index.vectors.shape == (32, 384)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-4)
    assert index.dense.ntotal == 32
    meta = json.loads((result.path / "meta.json").read_text())
    assert meta["version"] == result.version and meta["model"] == "default"


def test_same_sources_give_the_same_version_and_no_rebuild(tmp_path, faq_dir, embedder):
    first = build_index(load_sources([faq_dir]), tmp_path / "a", embedder=embedder)
    again = build_index(load_sources([faq_dir]), tmp_path / "a", embedder=embedder)
    elsewhere = build_index(load_sources([faq_dir]), tmp_path / "b", embedder=embedder)
    assert again.version == first.version == elsewhere.version
    assert not again.built and again.path == first.path


def test_a_different_model_or_entry_gives_another_version(faq_dir):
    entries = load_sources([faq_dir])
    assert fingerprint(entries, "default", 10) != fingerprint(entries, "other-model", 10)
    assert fingerprint(entries, "default", 10) != fingerprint(entries[1:], "default", 10)


def test_old_versions_are_pruned(tmp_path, faq_dir, embedder):
    entries = load_sources([faq_dir])
    index_dir = tmp_path / "index"
    for n in range(1, 5):
        build_index(entries[:n], index_dir, embedder=embedder)
    versions = [p for p in (index_dir / "versions").iterdir() if not p.name.startswith(".")]
    assert len(versions) == 3
    assert load_index(index_dir).entries == entries


def test_large_indexes_switch_to_hnsw(tmp_path, faq_dir, embedder):
    build_index(load_sources([faq_dir]), tmp_path / "index", embedder=embedder, ann_threshold=10)
    index = load_index(tmp_path / "index")
    assert "HNSW" in type(index.dense).__name__


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexNotFoundError, match="python -m faq_index build"):
        load_index(tmp_path)


# Several servers share one index directory (web services that rebuild it after "Add to FAQ",
# action servers that reload it); in containers they often all have PID 1.


def test_two_processes_publishing_at_once_both_succeed(tmp_path, faq_dir, embedder, monkeypatch):
    import faq_index.store as store

    entries = load_sources([faq_dir])
    index_dir = tmp_path / "index"
    first = build_index(entries[:2], index_dir, embedder=embedder)
    replace, interrupted = store.os.replace, []

    def another_publisher_in_between(source, target):
        if not interrupted:  # another server, same PID, publishes between our write and move
            interrupted.append(True)
            store._publish(index_dir, first.version)
        replace(source, target)

    monkeypatch.setattr(store.os, "replace", another_publisher_in_between)
    second = build_index(entries, index_dir, embedder=embedder)
    assert current_version(index_dir) == second.version
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".CURRENT")]


def test_a_concurrent_build_of_the_same_version_is_kept_not_deleted(
    tmp_path, faq_dir, embedder, monkeypatch
):
    import faq_index.store as store

    entries = load_sources([faq_dir])
    index_dir = tmp_path / "index"
    write, raced = store._write_version, []

    def another_server_finishes_first(staging, version, *args):
        write(staging, version, *args)
        if not raced:  # meanwhile another server built and published the same version
            raced.append(True)
            target = index_dir / "versions" / version
            target.mkdir()
            write(target, version, *args)
            (target / "theirs").write_text("a searcher may be loading this", encoding="utf-8")

    monkeypatch.setattr(store, "_write_version", another_server_finishes_first)
    result = build_index(entries, index_dir, embedder=embedder)
    assert (result.path / "theirs").is_file()  # not deleted under a searcher's feet
    assert load_index(index_dir).entries == entries
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.startswith(".build")]
