"""Grounded answers with cited passages, and test sets that measure them."""
