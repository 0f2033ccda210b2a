"""The browser tests' fixtures live in ``browsing.py`` beside their helpers."""

from tests.e2e.browsing import browser, clock, live, page  # noqa: F401
