-- A filter's window with its open ends closed (metric_bounds).
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from metric_bounds(getvariable('from'), getvariable('to'),
                   services := getvariable('services'), teams := getvariable('teams'))
