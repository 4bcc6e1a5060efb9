-- name: emergency-without-review
-- description: Emergency changes with no post-implementation review within the allowed number of days
-- audience: audit
-- kind: control
-- population: change requests
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: emergency_review_days int '5'
-- param: as_of timestamp null
--
-- Subject: one emergency change request implemented in [from, to)
-- (implemented_at, or the finish of its first deployment when the request
-- does not record it). Days are calendar days in UTC: implemented on day D,
-- the review is due by the end of day D + emergency_review_days. A missing
-- review is a finding only once that day is over at as_of (default: now).
-- outcome: evidence (reviewed by the due day), not_due (no review yet, due
-- day not over at as_of), failed.
with emergencies as (
    select r.change_request, r.requested_by, r.status, r.reviewed_after_at, r.approval_record, r.url,
           coalesce(r.implemented_at, r.first_deployed_at) as implemented_at
    from fct_change_requests r
    where r.risk = 'emergency'
),
checked as (
    select e.*,
           cast(timezone('UTC', e.implemented_at) as date) + $emergency_review_days::integer as review_due,
           cast(timezone('UTC', e.reviewed_after_at) as date) as reviewed_on,
           cast(timezone('UTC', coalesce($as_of, current_timestamp)) as date) as today
    from emergencies e
    where e.implemented_at is not null
      and e.implemented_at >= $from and e.implemented_at < $to
)
select change_request as subject,
       change_request, requested_by, status, implemented_at, reviewed_after_at,
       review_due, approval_record as approvals, url as request_url,
       case
           when reviewed_on is not null and reviewed_on <= review_due then 'evidence'
           when reviewed_on is null and today <= review_due then 'not_due'
           else 'failed'
       end as outcome,
       case
           when reviewed_on is not null and reviewed_on <= review_due then null
           when reviewed_on is not null then 'post-implementation review ' || (reviewed_on - review_due) || ' day(s) late'
           when today > review_due then 'no post-implementation review within ' || $emergency_review_days || ' days'
       end as rule
from checked
order by implemented_at, change_request
