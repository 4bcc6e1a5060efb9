-- materialized: view
-- The release gate's decisions (`shiplog gate` writes gate_decisions), with
-- the service as a key (trimmed, lower-cased) like every service name. A
-- view, so that a decision taken after the last transform is seen at once.
select
    id                      as decision_id,
    lower(trim(service))    as service,
    version,
    commit_sha,
    decision,
    criteria,
    decided_by,
    decided_at,
    override_reason
from gate_decisions
