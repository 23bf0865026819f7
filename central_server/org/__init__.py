"""The organisation: sites, people and devices registered, departments, shifts, employees, geofences, CSV import."""
