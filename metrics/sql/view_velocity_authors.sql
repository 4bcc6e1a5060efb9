-- metrics.View velocity_authors (metric_velocity_authors).
-- param: level text 'service'
-- param: unit text ''
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from metric_velocity_authors(getvariable('level'), getvariable('unit'), getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
