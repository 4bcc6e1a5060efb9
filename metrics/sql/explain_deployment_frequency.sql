-- metrics.Explain deployment-frequency (explain_deployment_frequency).
-- param: from timestamp null
-- param: to timestamp null
-- param: services text[] ''
-- param: teams text[] ''
from explain_deployment_frequency(getvariable('from'), getvariable('to'),
    services := getvariable('services'), teams := getvariable('teams'))
