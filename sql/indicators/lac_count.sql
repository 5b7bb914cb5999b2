-- lac_count: children looked after at the end of the period (31 March for a financial year).
select * from core.count_indicator('children_looked_after', 'All children')
