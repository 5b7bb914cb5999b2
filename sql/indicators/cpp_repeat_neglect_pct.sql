-- cpp_repeat_neglect_pct: plans starting under neglect that are a second or subsequent plan, as
-- a % of plans starting under neglect.
select * from core.ratio_indicator('cpp_repeat_subsequent', 'Neglect', 'cpp_repeat_started', 'Neglect', 100.0)
