-- metrics.Explain recovery-time (explain_recovery_time).
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from explain_recovery_time(getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
