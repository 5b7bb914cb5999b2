"""The model every stage shares: the indicator catalogue, reporting periods, statistics and the marts contract."""
