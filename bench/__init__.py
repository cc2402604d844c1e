"""Benchmarks of faq_index; see bench/retrieval.py."""
