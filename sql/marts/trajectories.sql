-- marts.trajectories: the path each strategy sets, as points: the baseline, any milestones,
-- and the target. Between two points the trajectory is a straight line; after the target's
-- date it stays at the target.
select partnership, area_code, indicator_id, baseline_date as due, baseline_value as value, 'baseline' as point
from marts.targets
where baseline_value is not null and target_value is not null
union all
select milestones.partnership, milestones.area_code, milestones.indicator_id, milestones.due, milestones.value,
    'milestone' as point
from core.strategy_milestones as milestones
inner join marts.targets as targets using (partnership, area_code, indicator_id)
where targets.baseline_value is not null and targets.target_value is not null
union all
select partnership, area_code, indicator_id, target_date as due, target_value as value, 'target' as point
from marts.targets
where baseline_value is not null and target_value is not null
order by partnership, area_code, indicator_id, due
