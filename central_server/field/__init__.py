"""Field work: inspections on tour, tasks assigned to employees, notices to sites and districts."""
