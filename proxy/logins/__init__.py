"""Legacy logins at the rate clients make them.

Many integrations log in before every call. The stored hash stays argon2id
(``proxy.tenants``); what changes is how often it is paid:

- ``VerifiedSecrets`` (cache.py): after one argon2id verification, a keyed hash of
  the presented secret, per user, for minutes; a repeated valid login is one HMAC
  and a constant-time comparison.
- ``LoginThrottle`` (throttle.py): failed logins per username and per client
  address, refused with the family's 429 before any argon2id work.
- ``Logins`` (service.py): the order of those steps, and the outcome metric.
"""

from proxy.logins.cache import VerifiedSecrets
from proxy.logins.service import Logins
from proxy.logins.throttle import LoginThrottle

__all__ = ["LoginThrottle", "Logins", "VerifiedSecrets"]
