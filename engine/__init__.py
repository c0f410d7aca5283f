"""Pure algorithms: matching, scheduling, rescheduling and bounds.

Nothing here touches a database, Prefect, templates, settings, the clock or the global random
generator. Inputs are frozen dataclasses (or the public JSON formats); randomness comes in as a seed.
"""
