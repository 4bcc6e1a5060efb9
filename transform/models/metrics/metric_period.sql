-- The start of the period t counts in, for the views that group by period
-- (metric_velocity, metric_mttr): the UTC start of t's week (Monday), month
-- or quarter, or lo without a unit ('' or null). Each unit is written as a
-- constant, as date_trunc checks a constant unit when the call is planned.
-- materialized: macro
-- arguments: unit, lo, t
case coalesce(unit, '')
    when '' then lo
    when 'week' then timezone('UTC', date_trunc('week', timezone('UTC', t)))
    when 'month' then timezone('UTC', date_trunc('month', timezone('UTC', t)))
    when 'quarter' then timezone('UTC', date_trunc('quarter', timezone('UTC', t)))
end
