"""Tests of the modern chapter."""
