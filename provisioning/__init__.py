"""Device enrolment: identity, signing keys and broker credentials for a kiosk."""
