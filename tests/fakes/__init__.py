"""Fakes of remote platforms for end-to-end tests; each listens on 127.0.0.1 only."""
