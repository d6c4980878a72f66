"""Benchmarks: the project's repositories against hand-written raw driver code.

Run ``python bench/run.py --help``; see ``bench/run.py`` for what is measured.
"""
