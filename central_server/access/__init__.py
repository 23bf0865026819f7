"""Who may do what: API tokens and roles, password users, login with its throttle, the audit log."""
