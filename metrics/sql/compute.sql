-- metrics.ComputeMany: the metric rows of every request, in one pass.
-- requests is a JSON list of {r, level, unit, lo, hi, services, teams,
-- environments}
-- (see metric_rows_many).
-- param: requests json '[]'
from metric_rows_many(from_json(getvariable('requests'),
    '[{"r": "INTEGER", "level": "VARCHAR", "unit": "VARCHAR", "lo": "TIMESTAMPTZ", "hi": "TIMESTAMPTZ", "services": ["VARCHAR"], "teams": ["VARCHAR"], "environments": ["VARCHAR"]}]'))
