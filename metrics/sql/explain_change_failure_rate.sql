-- metrics.Explain change-failure-rate (explain_change_failure_rate).
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from explain_change_failure_rate(getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
