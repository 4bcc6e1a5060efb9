-- materialized: view
-- The release gate's decisions (`shiplog gate` writes gate_decisions), with
-- the service as a key (trimmed, lower-cased) like every service name. A
-- view, so that a decision taken after the last transform is seen at once.
-- failed_criteria is the evidence of a NO-GO (or of the NO-GO an override
-- released): every criterion that did not pass, in the gate's order, as
-- "name: measured (threshold: what the policy asks)", or "name: evidence"
-- for a decision recorded before the gate wrote measured values; NULL when
-- every criterion passed.
select
    id                      as decision_id,
    lower(trim(service))    as service,
    version,
    commit_sha,
    decision,
    criteria,
    decided_by,
    decided_at,
    override_reason,
    nullif(array_to_string(list_transform(
        list_filter(from_json(criteria, '["JSON"]'), lambda c: not coalesce(cast(c ->> 'passed' as boolean), false)),
        lambda c: (c ->> 'name') || ': ' ||
                  coalesce((c ->> 'measured') || ' (threshold: ' || (c ->> 'threshold') || ')', c ->> 'evidence', 'failed')),
        '; '), '')          as failed_criteria
from gate_decisions
