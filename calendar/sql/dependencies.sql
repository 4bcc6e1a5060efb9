-- calendar.LoadDependencies: each service's depends_on list.
SELECT id, flatten(list(depends_on)) FROM services WHERE depends_on IS NOT NULL GROUP BY id
