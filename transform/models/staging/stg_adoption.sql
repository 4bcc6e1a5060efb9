-- Daily feature adoption, one row per service, feature and day (when
-- several sources send a day, the first source by name wins); service is a
-- key (trimmed, lower-cased).
-- param: several_sources_adoption bool 'false'
-- param: main_source_adoption text null
select
    lower(trim(service)) as service,
    feature,
    day,
    active_users,
    eligible_users,
    version
from adoption a
-- the same anti join on run values as stg_changes: with one source the
-- other side is empty and DuckDB drops the join; with several, only the
-- days the sources other than the main one sent are hashed
anti join (
    select service, feature, day, source from adoption o
    semi join (
        select service, feature, day from adoption
        where source <> getvariable('main_source_adoption')
    ) m using (service, feature, day)
    where getvariable('several_sources_adoption')
) other on other.service = a.service and other.feature = a.feature
       and other.day = a.day and other.source < a.source
