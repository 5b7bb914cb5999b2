"""Finding, reading and recognising extract files: partner returns, DfE open data, record-level extracts
and strategy files."""
