"""Ledger fixtures live in tests/conftest.py (the gateway tests share the real PostgreSQL ones)."""
