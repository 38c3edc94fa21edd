"""Tokenise sentences and rank them with BM25."""
