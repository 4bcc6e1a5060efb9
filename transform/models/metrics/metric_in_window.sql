-- Whether t lies in the window [lo, hi); a null end is open.
-- materialized: macro
-- arguments: t, lo, hi
(lo is null or t >= lo) and (hi is null or t < hi)
