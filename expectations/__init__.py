"""Validation contracts: partner-return layouts, their pandera schemas, and the marts' GX suite."""
