-- The period a fact at time t counts in, for a request with unit and
-- window start lo: microseconds since the epoch of the UTC start of t's
-- week (Monday), month or quarter, clipped to lo; lo itself without a unit
-- (''). Each unit is written as a constant: date_trunc reads a constant
-- unit once, a column's for every row. No time-zone functions: t is read
-- as UTC through make_timestamp.
-- materialized: macro
-- arguments: unit, lo, t
case unit when '' then epoch_us(lo)
    else greatest(epoch_us(case unit when 'week' then date_trunc('week', make_timestamp(epoch_us(t)))
                                     when 'month' then date_trunc('month', make_timestamp(epoch_us(t)))
                                     else date_trunc('quarter', make_timestamp(epoch_us(t))) end), epoch_us(lo)) end
