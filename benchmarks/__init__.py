"""Benchmarks, apart from the tests: each prints times measured in the same run and ratios."""
