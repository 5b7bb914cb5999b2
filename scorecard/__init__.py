"""Neglect Scorecard's domain code, by stage, with no Dagster in it.

A file walks one way through these subpackages: ``ingest`` (find, read and recognise files)
-> ``load`` (the ledger, quarantine, row stores and the DuckDB warehouse) -> ``model`` (the
indicator catalogue, periods, statistics and the marts contract, used by every stage) ->
``publish`` (one reader of the marts, disclosure control, charts and reports). ``sample``
writes the sample extracts. None of it imports ``pipelines`` (the Dagster wiring) or
``assets``; tests/test_architecture.py keeps it so.
"""
