-- name: unreviewed-change
-- description: Changes merged without the required number of approving reviews by non-authors
-- audience: audit
-- kind: control
-- population: changes
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: required_approvals int '1'
--
-- Subject: one change merged in [from, to) (fct_changes: each change once,
-- in the service it belongs to). `approvals` is the canonical count of
-- approving reviews by people other than the author; a missing count is
-- zero. outcome: evidence (enough approving reviews, at least one),
-- not_required (required_approvals is 0 and none was given), failed.
select c.change_id as subject,
       c.change_id, c.service, c.repo, c.title, c.author, c.merged_at,
       coalesce(c.approvals, 0) as approvals, $required_approvals as required_approvals,
       case
           when coalesce(c.approvals, 0) < $required_approvals then 'failed'
           when coalesce(c.approvals, 0) > 0 then 'evidence'
           else 'not_required'
       end as outcome,
       case
           when coalesce(c.approvals, 0) < $required_approvals
           then 'merged with ' || coalesce(c.approvals, 0) || ' of ' || $required_approvals || ' required approving reviews'
       end as rule
from fct_changes c
where c.merged_at is not null
  and c.merged_at >= $from and c.merged_at < $to
order by c.merged_at, c.change_id
