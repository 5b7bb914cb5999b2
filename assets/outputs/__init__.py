"""Outputs layer assets."""
