"""Use cases of sign-in security, one module each (login, recovery, "This wasn't me")."""
