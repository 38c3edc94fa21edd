"""Decide whether the corpus answers a question, and with which cited passages."""
