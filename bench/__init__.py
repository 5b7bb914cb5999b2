"""`make bench`: the record-level build against bare DuckDB and pandas (see bench/README.md)."""
