-- Services, one row per id (the first source by name wins). The id and the
-- team are keys (trimmed, lower-cased: `Checkout-API` and `checkout-api`
-- are one service); name keeps the display name (the id as sent when the
-- record has none). People and roles in release_managers,
-- rollback_authority and allowed_deployers are trimmed, and compared by
-- their lower-cased *_keys lists.
select
    lower(trim(id))                     as service,
    coalesce(nullif(trim(name), ''), trim(id)) as name,
    lower(trim(team))                   as team,
    tier,
    repo,
    coalesce(paths, [])                 as paths,
    list_transform(coalesce(depends_on, []), lambda x: lower(trim(x))) as depends_on,
    list_transform(release_managers, lambda x: trim(x))          as release_managers,
    list_transform(rollback_authority, lambda x: trim(x))        as rollback_authority,
    list_transform(allowed_deployers, lambda x: trim(x))         as allowed_deployers,
    list_transform(coalesce(release_managers, []), lambda x: lower(trim(x)))   as release_manager_keys,
    list_transform(coalesce(rollback_authority, []), lambda x: lower(trim(x))) as rollback_authority_keys,
    list_transform(coalesce(allowed_deployers, []), lambda x: lower(trim(x)))  as allowed_deployer_keys
from services
qualify row_number() over (partition by lower(trim(id)) order by source, id) = 1
