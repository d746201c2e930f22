"""Shared fixtures. Fixtures that start Xvfb or a PulseAudio null sink live in
fixtures_desktop.py and are loaded here, so plain ``pytest`` works in the virtualenv."""
