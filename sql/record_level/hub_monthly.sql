-- Front-door / hub referrals per area and calendar month, from the hub log (raw.hub_log):
-- hub_referrals (every referral), hub_neglect_referrals (tagged neglect) and
-- hub_neglect_handled (tagged neglect and dealt with by the hub), breakdown 'All referrals'.
--
-- * Each log row is one referral (the log need not identify children, so nothing is merged).
-- * A row whose outcome is blank or not recognised counts as a neglect referral, not as handled.
-- * Months run from the area's first to its last referral (tagged or not); a month with none gives 0.
with referrals as (
    select area_code, referral_date, neglect, outcome
    from raw.hub_log
    where area_code is not null
),

spans as (
    select area_code,
        date_trunc('month', min(referral_date))::date as first_month,
        date_trunc('month', max(referral_date))::date as last_month
    from referrals
    group by area_code
),

months as (
    select area_code, unnest(generate_series(first_month, last_month, interval 1 month))::date as month
    from spans
),

counts as (
    select area_code, date_trunc('month', referral_date)::date as month,
        count(*) as all_referrals,
        count(*) filter (where neglect) as neglect_referrals,
        count(*) filter (where neglect and outcome = 'hub') as neglect_handled
    from referrals
    group by all
),

monthly as (
    select months.area_code, months.month,
        coalesce(counts.all_referrals, 0) as all_referrals,
        coalesce(counts.neglect_referrals, 0) as neglect_referrals,
        coalesce(counts.neglect_handled, 0) as neglect_handled
    from months
    left join counts on counts.area_code = months.area_code and counts.month = months.month
)

select area_code, month, 'hub_referrals' as measure, 'All referrals' as breakdown, all_referrals::bigint as count
from monthly
union all
select area_code, month, 'hub_neglect_referrals', 'All referrals', neglect_referrals::bigint
from monthly
union all
select area_code, month, 'hub_neglect_handled', 'All referrals', neglect_handled::bigint
from monthly
order by area_code, measure, breakdown, month
