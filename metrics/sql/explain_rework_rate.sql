-- metrics.Explain rework-rate (explain_rework_rate).
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from explain_rework_rate(getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
