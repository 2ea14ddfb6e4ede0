"""Enforcement agencies (执法主体)."""
