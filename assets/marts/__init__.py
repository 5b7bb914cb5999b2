"""Marts layer assets."""
