"""Maintenance scripts for the knowledge data (run by hand, not by the bot)."""
