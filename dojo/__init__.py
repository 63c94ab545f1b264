"""Kata dojo: staged, gated pytest runs for four-round coding katas."""

__version__ = "0.1.0"
