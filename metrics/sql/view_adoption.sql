-- metrics.View adoption (metric_adoption).
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from metric_adoption(getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
