"""Fake external services (OpenAI-compatible server, …) that tests talk to over loopback."""
