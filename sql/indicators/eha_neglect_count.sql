-- eha_neglect_count: early help assessments started in the period where neglect is a concern,
-- all agencies together (per agency: marts.eha_neglect_by_agency).
select * from core.count_indicator('eha_started_neglect', null)
