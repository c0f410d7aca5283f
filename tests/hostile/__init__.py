"""Hostile input: Hypothesis strategies for each door (issue 13). docs/hostile.md records the case counts."""
