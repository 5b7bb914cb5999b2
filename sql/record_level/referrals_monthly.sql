-- Referrals to children's social care per area and calendar month, from Annex A list 3
-- (raw.annex_a_list3): referrals, rereferrals and referrals_neglect, breakdown 'All referrals'.
--
-- * One referral per child and date: the same child referred twice on one day (or the same
--   referral in two overlapping extracts) is one referral.
-- * A referral is a re-referral when the same child's previous referral (on an earlier date)
--   is on or after this referral's date minus 12 calendar months: 15 March 2020 -> 15 March
--   2021 is a re-referral, 14 March 2020 -> 15 March 2021 is not (month ends clamp:
--   29 February 2020 -> 28 February 2021 is one).
-- * rereferrals are given only from 12 months after the area's first month, when every
--   referral in the month has a full 12 months of history in the data.
-- * referrals_neglect (neglect flag true) is given only for areas whose extracts record neglect.
-- * Months run from the area's first to its last referral; a month with none gives 0.
-- * Counted in one pass over each child's referrals in date order, and within a day neglect
--   first (true, then false, then unknown): the first row of each day is the day's referral,
--   with the day's neglect flag (true if any of its rows says so), and the row before it holds
--   the previous referral's date.
with spans as (
    select area_code,
        date_trunc('month', min(referral_date))::date as first_month,
        date_trunc('month', max(referral_date))::date as last_month,
        count(neglect) > 0 as neglect_recorded,
        -- (the rows pass through the window and the counts with this number in place of their
        -- area_code: an integer is much cheaper to carry and to partition by than text)
        row_number() over (order by area_code)::integer as area_number
    from raw.annex_a_list3
    where area_code is not null
    group by area_code
),

referrals as (
    select area_number, referral_date, neglect, previous_referral
    from (
        select area_number, referral_date, neglect,
            lag(referral_date) over (partition by child_key, area_number
                                     order by referral_date, neglect desc nulls last) as previous_referral
        from raw.annex_a_list3
        join spans using (area_code)
    )
    where previous_referral is null or previous_referral < referral_date  -- the day's first row
),

months as (
    select area_code, area_number, first_month, neglect_recorded,
        unnest(generate_series(first_month, last_month, interval 1 month))::date as month
    from spans
),

counts as (
    select area_number, date_trunc('month', referral_date)::date as month,
        count(*) as referrals,
        -- (12 calendar months back is at most 366 days: only those dates need the costlier month arithmetic)
        count(*) filter (where case when previous_referral >= referral_date - 366
                                    then previous_referral >= referral_date - interval 12 month end) as rereferrals,
        count(*) filter (where neglect) as referrals_neglect
    from referrals
    group by all
),

monthly as (
    select months.area_code, months.month, months.first_month,
        months.neglect_recorded,
        coalesce(counts.referrals, 0) as referrals,
        coalesce(counts.rereferrals, 0) as rereferrals,
        coalesce(counts.referrals_neglect, 0) as referrals_neglect
    from months
    left join counts on counts.area_number = months.area_number and counts.month = months.month
)

select area_code, month, 'referrals' as measure, 'All referrals' as breakdown, referrals::bigint as count
from monthly
union all
select area_code, month, 'rereferrals', 'All referrals', rereferrals::bigint
from monthly
where month >= first_month + interval 12 month
union all
select area_code, month, 'referrals_neglect', 'All referrals', referrals_neglect::bigint
from monthly
where neglect_recorded
order by area_code, measure, breakdown, month
