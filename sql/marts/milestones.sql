-- marts.milestones: each milestone a strategy sets on a named period ("at least 1,375 hub
-- referrals in the six months ending December 2018"), judged on that period's figure: met
-- when it is on the right side of the milestone for the indicator's polarity.
select
    milestones.partnership,
    milestones.area_code,
    milestones.indicator_id,
    milestones.period_type,
    milestones.period_label,
    milestones.period_end,
    milestones.value as milestone_value,
    values.value,
    case
        when values.value is null then 'no data'
        when indicators.polarity = 'higher_is_better' and values.value >= milestones.value then 'met'
        when indicators.polarity = 'lower_is_better' and values.value <= milestones.value then 'met'
        else 'missed'
    end as status
from core.strategy_period_milestones as milestones
inner join marts.indicators as indicators on indicators.indicator_id = milestones.indicator_id
left join marts.indicator_values as values
    on values.indicator_id = milestones.indicator_id
    and values.area_code = milestones.area_code
    and values.period_type = milestones.period_type
    and values.period_label = milestones.period_label
order by milestones.partnership, milestones.area_code, milestones.indicator_id, milestones.period_end
