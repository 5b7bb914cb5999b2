-- lac_rate_per_10k: children looked after at the end of the period per 10,000 children
-- aged 0-17 (ONS mid-year estimate).
select * from core.ratio_indicator('children_looked_after', 'All children', 'population_aged_0_17', 'All children', 10000.0)
