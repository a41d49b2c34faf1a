"""Tests that open pages in a real headless Chromium (Debian's, driven by Playwright)."""
