"""Restart-safe reminders: the service the engine calls and the scheduler that delivers them."""
