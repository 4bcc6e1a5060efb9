-- Helpers for reading CDEvents. TEMP: they live on the mapping connection.

-- cdevents_sha: a commit id (7 to 40 hex digits) in lower case, else NULL.
CREATE OR REPLACE TEMP MACRO cdevents_sha(s) AS
    CASE WHEN regexp_full_match(lower(trim(s)), '[0-9a-f]{7,40}') THEN lower(trim(s)) END;

-- Package URLs (purl, pkg:type/namespace/name@version?qualifiers#subpath),
-- the form of artifactId: the name, the version and two qualifiers.
CREATE OR REPLACE TEMP MACRO purl_name(p) AS
    nullif(lower(url_decode(regexp_extract(p, '^pkg:[^/]+/(?:[^@?#]*/)?([^/@?#]+)', 1))), '');
CREATE OR REPLACE TEMP MACRO purl_version(p) AS
    nullif(url_decode(regexp_extract(p, '^pkg:[^@?#]*@([^?#]+)', 1)), '');
CREATE OR REPLACE TEMP MACRO purl_tag(p) AS
    nullif(url_decode(regexp_extract(p, '[?&]tag=([^&#]+)', 1)), '');
-- vcs_url=git+https://host/org/repo@SHA names the commit it was built from.
CREATE OR REPLACE TEMP MACRO purl_vcs_sha(p) AS
    cdevents_sha(regexp_extract(url_decode(regexp_extract(p, '[?&]vcs_url=([^&#]+)', 1)), '@([0-9A-Fa-f]{7,40})$', 1));
-- A purl version that is a commit id: 7 to 40 hex digits with at least one
-- letter (an all-digit version is a version number).
CREATE OR REPLACE TEMP MACRO purl_version_sha(p) AS
    CASE WHEN regexp_matches(purl_version(p), '[a-fA-F]') THEN cdevents_sha(purl_version(p)) END;

-- last_element: service/checkout → checkout, in lower case.
CREATE OR REPLACE TEMP MACRO last_element(s) AS
    nullif(lower(regexp_extract(trim(s), '([^/]+)/*$', 1)), '');

-- cdevents_severity: customData.severity (or priority) as sev1 … sev4:
-- sev1 / SEV-2 / S3 / P4 / 1 by their digit; critical sev1; high, major
-- sev2; medium, moderate, warning sev3; low, minor, info sev4.
CREATE OR REPLACE TEMP MACRO cdevents_severity(s) AS
    CASE
        WHEN regexp_full_match(trim(s), '(?i)(?:sev(?:erity)?|s|p)?[\s_-]*[1-4]') THEN 'sev' || regexp_extract(s, '([1-4])', 1)
        WHEN lower(trim(s)) IN ('critical', 'blocker', 'highest') THEN 'sev1'
        WHEN lower(trim(s)) IN ('high', 'major') THEN 'sev2'
        WHEN lower(trim(s)) IN ('medium', 'moderate', 'warning') THEN 'sev3'
        WHEN lower(trim(s)) IN ('low', 'lowest', 'minor', 'info', 'informational') THEN 'sev4'
    END;

-- cdevents_status: a pipeline outcome as a deployment status.
CREATE OR REPLACE TEMP MACRO cdevents_status(o) AS
    CASE
        WHEN lower(trim(o)) = 'success' THEN 'success'
        WHEN lower(trim(o)) IN ('failure', 'error') THEN 'failure'
        WHEN lower(trim(o)) LIKE 'cancel%' OR lower(trim(o)) LIKE 'abort%' THEN 'cancelled'
    END;
