-- cpp_neglect_pct: children on a plan at the end of the period whose latest category is
-- neglect, as a % of all children on a plan then.
select * from core.ratio_indicator('cpp_open', 'Neglect', 'cpp_open', null, 100.0)
