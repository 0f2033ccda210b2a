"""Test-wide settings: hypothesis runs without per-example deadlines (CI machines vary)."""

from hypothesis import settings

settings.register_profile("doorcode", deadline=None, print_blob=True)
settings.load_profile("doorcode")
