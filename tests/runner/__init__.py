"""Tests of the runner plugin, run on a toy kit copied to a temporary folder."""
