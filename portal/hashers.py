import threading

from django.contrib.auth.hashers import Argon2PasswordHasher

# One Argon2 computation at a time per server process. Each one needs 19 MiB; with threaded
# workers, four at once would hold ~76 MiB per process and finish no sooner, because the CPU is
# the limit (the server runs one process per core).
_hash_slot = threading.RLock()


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1).

    Django's own defaults (m = 100 MiB, p = 8) cost 150-240 ms on these two cores, which would cap
    logins at ~8 per second; these parameters keep ~28 ms. The algorithm name stays "argon2", so
    Django re-hashes older hashes on login when these parameters change.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        with _hash_slot:
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with _hash_slot:
            return super().verify(password, encoded)
