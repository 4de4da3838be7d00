"""Siaran's web console: sign-in, announcements, compose, delivery, channels, coverage."""
