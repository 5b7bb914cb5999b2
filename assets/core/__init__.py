"""Core layer assets."""
