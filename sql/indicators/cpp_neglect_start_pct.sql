-- cpp_neglect_start_pct: plans starting in the period with initial category neglect, as a % of
-- all plans starting in the period.
select * from core.ratio_indicator('cpp_started', 'Neglect', 'cpp_started', null, 100.0)
