"""Performance benchmarks (DESIGN §8): plain scripts, not timed tests.

Run them all with `python -m benchmarks`, or one with `python -m benchmarks.full_city`.
"""
