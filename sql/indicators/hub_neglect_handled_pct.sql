-- hub_neglect_handled_pct: referrals tagged neglect dealt with by the early help hubs, as a % of
-- all referrals tagged neglect.
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'hub_neglect_handled') as numerator,
        sum(count) filter (where measure = 'hub_neglect_referrals') as denominator
    from core.observation_periods
    group by all
)

select *, 100.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
