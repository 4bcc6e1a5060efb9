-- Daily feature adoption, one row per service, feature and day.
select
    service,
    feature,
    day,
    active_users,
    eligible_users,
    version
from adoption
qualify row_number() over (partition by service, feature, day order by source) = 1
