"""Supervision (行政执法协调监督): what supervisors see of agencies' disclosures and changes."""
