import numpy as np
import pytest

from faq_index.entry_classifier import EntryClassifier


@pytest.fixture(scope="module")
def classifier() -> EntryClassifier:
    rng = np.random.default_rng(7)
    centres = np.eye(3, 8, dtype=np.float32)
    vectors = np.repeat(centres, 5, axis=0) + rng.normal(0, 0.05, (15, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return EntryClassifier.train(vectors, np.repeat(np.arange(3), 5), entries=3)


def test_each_entry_is_most_probable_near_its_variants(classifier):
    for entry, centre in enumerate(np.eye(3, 8, dtype=np.float32)):
        probabilities = classifier.probabilities(centre)
        assert probabilities.shape == (3,)
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert int(np.argmax(probabilities)) == entry


def test_saved_under_the_file_name_built_indexes_already_hold(classifier, tmp_path):
    classifier.save(tmp_path)
    # Index versions on operators' disks hold the classifier as head.npz (the module's former
    # name): another file name would stop them loading.
    assert [p.name for p in tmp_path.iterdir()] == ["head.npz"]
    loaded = EntryClassifier.load(tmp_path)
    assert np.array_equal(loaded.weights, classifier.weights)
    assert np.array_equal(loaded.bias, classifier.bias)
