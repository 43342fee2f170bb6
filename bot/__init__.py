"""Opt-Out Assistant: the platform-free core."""
