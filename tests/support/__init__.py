"""Helpers shared by the tests: registries, ledger rows, discovery fixtures, tiny HF models."""
