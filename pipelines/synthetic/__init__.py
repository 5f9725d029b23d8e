"""The seeded demo province: a registry and one file per school, start and end of year, last year
by cohorts, with injected defects (test and demo data only; every name is generated)."""
