"""Benchmarks: faq_index's retrieval and the running assistant end to end (bench/RESULTS.md).

Each script runs from the repository's root as a module, ``.venv/bin/python -m bench.retrieval``
(``--help`` for its options). The test doubles they share with the tests come from ``testkit``,
never from ``tests``.
"""
