"""Enforcement cases: full-process records (执法全过程记录) and legal review (重大执法决定法制审核)."""
