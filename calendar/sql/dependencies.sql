-- calendar.LoadDependencies: each service's depends_on list.
SELECT service, depends_on FROM dim_services WHERE len(depends_on) > 0
