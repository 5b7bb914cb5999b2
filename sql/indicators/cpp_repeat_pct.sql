-- cpp_repeat_pct: plans starting in the period that are a second or subsequent plan, however
-- long ago the last, as a % of all plans starting.
select * from core.ratio_indicator('cpp_repeat_subsequent', 'All categories', 'cpp_repeat_started', 'All categories', 100.0)
