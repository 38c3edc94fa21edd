"""Measure retrieval quality on question sets with gold sentences."""
