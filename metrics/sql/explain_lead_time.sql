-- metrics.Explain lead-time (explain_lead_time).
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from explain_lead_time(getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
