"""Authentication and authorisation: passwords, sessions, API tokens, roles, CSRF, login limits."""
