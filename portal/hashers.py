from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1).

    Django's own defaults (m = 100 MiB, p = 8) cost 150-240 ms on these two cores, which would cap
    logins at ~8 per second; these parameters keep ~28 ms. The algorithm name stays "argon2", so
    Django re-hashes older hashes on login when these parameters change.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
