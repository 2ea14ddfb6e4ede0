"""The changes feed for upper platforms: every change in a region, each provable against a signed checkpoint."""
