"""The steps that build core and mart tables in the warehouse beyond a single SQL file: the
indicator series with their confidence intervals, the benchmark comparisons, SPC, and the
catalogue as tables. Each is one function of a DuckDB connection that an asset calls."""
