-- referral_neglect_pct: referrals tagged neglect, as a % of all referrals in the period.
-- A part that is suppressed or missing leaves the value missing, with the reason in value_note.
with numerator as (
    select source, area_code, period_type, period_label, period_start, period_end,
        case when bool_and(count is not null) then sum(count) end as numerator,
        string_agg(distinct value_note, '; ') as note
    from core.observation_periods
    where measure = 'referrals_neglect' and breakdown = 'All referrals'
    group by all
),

denominator as (
    select source, area_code, period_type, period_label, period_start, period_end,
        case when bool_and(count is not null) then sum(count) end as denominator,
        string_agg(distinct value_note, '; ') as note
    from core.observation_periods
    where measure = 'referrals' and breakdown = 'All referrals'
    group by all
)

select
    denominator.source, denominator.area_code, denominator.period_type, denominator.period_label,
    denominator.period_start, denominator.period_end,
    numerator.numerator,
    denominator.denominator,
    100.0 * numerator.numerator / nullif(denominator.denominator, 0) as value,
    nullif(concat_ws('; ', numerator.note, denominator.note), '') as value_note
from denominator
inner join numerator using (source, area_code, period_type, period_label, period_start, period_end)
