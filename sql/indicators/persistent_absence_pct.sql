-- persistent_absence_pct: pupils missing 10% or more of their own possible sessions, as a % of
-- pupils, per academic year (all pupils; the DfE's figures for children in need are
-- kept as other breakdowns).
select * from core.ratio_indicator('pupils_persistently_absent', 'All pupils', 'pupils', 'All pupils', 100.0)
