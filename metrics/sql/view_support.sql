-- metrics.View support (metric_support).
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from metric_support(getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
