-- metrics.View mttr (metric_mttr).
-- param: level text 'service'
-- param: unit text ''
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from metric_mttr(getvariable('level'), getvariable('unit'), getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
