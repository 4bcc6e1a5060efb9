-- Each change that reverts another, with the change it reverts
-- (reverted_row) and how that was found (matched_by). A change is a revert
-- when its title or message, or the message of one of its commits, says
-- `This reverts commit <sha>` (git's trailer, 7 to 40 hex digits), or its
-- title starts with `Revert "…"` (git's and the forges' subject line).
-- The reverted change is found by sha where one is given: the change whose
-- merge commit, commits or id is that sha (an abbreviated sha matches the
-- shas it starts); matched_by = sha. When no sha is given, or none names a
-- known change, by title: the latest change of the same service, begun
-- before the revert was, whose title is the quoted text (the outermost
-- quotes, so `Revert "Revert "x""` reverts `Revert "x"`); matched_by =
-- title. A change never reverts itself. fct_failures reads this to fail
-- the deployment that shipped the reverted change (reason revert).
with

changes as (
    select change_row, service, title, first_commit_at, message from int_changes
),

-- the changes that say they revert something: a few among millions,
-- found in one scan and kept (materialized)
reverts as materialized (
    select *
    from changes
    where starts_with(ltrim(title), 'Revert "')
       or contains(title, 'This reverts commit')
       or contains(message, 'This reverts commit')
),

-- revert trailers in commit messages: few commits among millions, kept
-- apart before anything joins them (materialized)
commit_trailers as materialized (
    select sha, unnest(regexp_extract_all(message, 'This reverts commit ([0-9a-fA-F]{7,40})', 1)) as reverted_sha
    from stg_commits
    where contains(message, 'This reverts commit')
),

-- the prefixes (7 hex digits) of every sha a trailer names, to pick the
-- few change shas that can matter in one scan of them all
named_prefixes as materialized (
    select distinct left(lower(reverted_sha), 7) as prefix
    from (
        select unnest(regexp_extract_all(concat_ws(chr(10), title, message), 'This reverts commit ([0-9a-fA-F]{7,40})', 1)) as reverted_sha
        from reverts
        union all
        select reverted_sha from commit_trailers
    )
),

-- the change shas that carry a trailer or that a trailer may name: one
-- scan of every change's shas (int_change_shas), kept (materialized)
-- before the joins below read it twice
candidate_shas as materialized (
    select s.change_row, s.sha
    from int_change_shas s
    where s.sha in (select sha from commit_trailers)
       or left(s.sha, 7) in (select prefix from named_prefixes)
),

trailers as (
    select change_row, unnest(regexp_extract_all(concat_ws(chr(10), title, message), 'This reverts commit ([0-9a-fA-F]{7,40})', 1)) as reverted_sha
    from reverts
    union
    select s.change_row, t.reverted_sha
    from candidate_shas s
    join commit_trailers t on t.sha = s.sha
),

by_sha as materialized (
    select distinct t.change_row as revert_row, s.change_row as reverted_row
    from trailers t
    join candidate_shas s
      on left(s.sha, 7) = left(lower(t.reverted_sha), 7)
     and starts_with(s.sha, lower(t.reverted_sha))
    where s.change_row <> t.change_row
),

titled as (
    select change_row, service, first_commit_at, regexp_extract(title, '^ *Revert "(.*)"', 1) as reverted_title
    from reverts
    where regexp_matches(title, '^ *Revert "(.*)"')
      and change_row not in (select revert_row from by_sha)
),

-- the changes whose title a revert quotes (a few), before the ASOF join
quoted as materialized (
    select c.change_row, c.service, c.title, c.first_commit_at
    from changes c
    semi join titled t on t.reverted_title = c.title and t.service = c.service
),

by_title as (
    select t.change_row as revert_row, q.change_row as reverted_row
    from titled t
    asof join quoted q
      on q.service = t.service and q.title = t.reverted_title and t.first_commit_at > q.first_commit_at
    where q.change_row <> t.change_row
)

select revert_row, reverted_row, 'sha' as matched_by from by_sha
union all
select revert_row, reverted_row, 'title' from by_title
