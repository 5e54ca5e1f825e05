"""Contracts: the names and shapes that infra, the function and the CLI share (no logic, no I/O)."""
