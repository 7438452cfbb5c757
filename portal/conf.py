"""Every PORTAL_* setting, typed and documented, read at access time.

Apps read policy only through `portal.conf.portal` so tests can change any value with
pytest-django's `settings` fixture and see the change immediately.
"""

from __future__ import annotations

from datetime import date
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from django.conf import settings
from django.templatetags.static import static


class PortalSettings:
    @property
    def lender_name(self) -> str:
        """The lender's display name (white label)."""
        return str(settings.PORTAL_LENDER_NAME)

    @property
    def logo_url(self) -> str:
        """Address of the lender's logo for the header, or "" for the name as a wordmark.

        PORTAL_LOGO_URL is an https:// address or a path under static/ (resolved here, so a
        hashed static file name works too)."""
        value = str(settings.PORTAL_LOGO_URL)
        if not value or "://" in value or value.startswith("/"):
            return value
        return static(value)

    @property
    def support_phone(self) -> str:
        return str(settings.PORTAL_SUPPORT_PHONE)

    @property
    def support_hours(self) -> str:
        return str(settings.PORTAL_SUPPORT_HOURS)

    @property
    def security_contact(self) -> str:
        """The Contact of /.well-known/security.txt: a mailto:, https: or tel: URI (default: the
        support phone)."""
        return str(settings.PORTAL_SECURITY_CONTACT)

    @property
    def security_txt_expires(self) -> date | None:
        """The Expires of /.well-known/security.txt; unset, it is always 180 days ahead."""
        value = settings.PORTAL_SECURITY_TXT_EXPIRES
        return value if isinstance(value, date) else None

    @property
    def metrics_token(self) -> str:
        """A bearer token that opens /metrics from any network ("" : networks only)."""
        return str(settings.PORTAL_METRICS_TOKEN)

    @property
    def metrics_networks(self) -> list[IPv4Network | IPv6Network]:
        """The networks /metrics answers without a token."""
        return list(settings.PORTAL_METRICS_NETWORKS)

    @property
    def identity_key(self) -> bytes:
        """Key of the HMAC under which identity data (TIN digits, birth date) is stored."""
        return str(settings.PORTAL_IDENTITY_KEY).encode()

    @property
    def trusted_proxy_count(self) -> int:
        """How many proxies in front of the portal append to X-Forwarded-For (0: none)."""
        return int(settings.PORTAL_TRUSTED_PROXY_COUNT)

    @property
    def outbox_dir(self) -> Path:
        """Where the local default writes one file per outgoing email or text message."""
        return Path(settings.PORTAL_OUTBOX_DIR)

    @property
    def sms_backend(self) -> str:
        return str(settings.PORTAL_SMS_BACKEND)

    @property
    def message_poll_seconds(self) -> float:
        """How often an idle `deliver_messages` worker looks for messages to send."""
        return float(settings.PORTAL_MESSAGE_POLL_SECONDS)

    @property
    def message_sweep_seconds(self) -> float:
        """How often the worker re-queues messages that are due or whose sender stopped."""
        return float(settings.PORTAL_MESSAGE_SWEEP_SECONDS)

    @property
    def message_lease_seconds(self) -> int:
        """A delivery still "sending" after this long is taken over by another attempt (longer
        than any provider's timeout: the SMTP connection's is 10 s)."""
        return int(settings.PORTAL_MESSAGE_LEASE_SECONDS)

    @property
    def message_max_attempts(self) -> int:
        """Delivery attempts of one message before it is marked failed."""
        return int(settings.PORTAL_MESSAGE_MAX_ATTEMPTS)

    @property
    def message_first_retry_seconds(self) -> int:
        """The wait after a failed first attempt; each later wait is three times longer."""
        return int(settings.PORTAL_MESSAGE_FIRST_RETRY_SECONDS)

    @property
    def message_retention_days(self) -> int:
        """Sent and failed messages (their bodies already dropped) are deleted after this."""
        return int(settings.PORTAL_MESSAGE_RETENTION_DAYS)

    @property
    def password_min_length(self) -> int:
        return int(settings.PORTAL_PASSWORD_MIN_LENGTH)

    @property
    def session_idle_seconds(self) -> int:
        """A signed-in session ends after this long without a request."""
        return int(settings.PORTAL_SESSION_IDLE_SECONDS)

    @property
    def session_max_seconds(self) -> int:
        """A signed-in session ends this long after login whatever the activity."""
        return int(settings.SESSION_COOKIE_AGE)

    @property
    def enrollment_idle_seconds(self) -> int:
        return int(settings.PORTAL_ENROLLMENT_IDLE_SECONDS)

    @property
    def verify_max_failures(self) -> int:
        """Failed identity verifications allowed per loan (account number and VIN together) in
        the window. Once they are used up the loan is paused: enrollment and account recovery
        then let the customer through only with a code sent to the contact on record, and say
        the same thing to right and wrong details (security.identity_check)."""
        return int(settings.PORTAL_VERIFY_MAX_FAILURES)

    @property
    def verify_window_seconds(self) -> int:
        return int(settings.PORTAL_VERIFY_WINDOW_SECONDS)

    @property
    def verify_ip_rate(self) -> str:
        """django-ratelimit rate for identity verification attempts per client IP."""
        return str(settings.PORTAL_VERIFY_IP_RATE)

    @property
    def login_ip_rate(self) -> str:
        """django-ratelimit rate for password, answer and code attempts per client IP."""
        return str(settings.PORTAL_LOGIN_IP_RATE)

    @property
    def step_up_policy(self) -> str:
        """What an unregistered device must pass: "question+code", "code" or "question"."""
        return str(settings.PORTAL_STEP_UP_POLICY)

    @property
    def step_up_passkey(self) -> bool:
        """PORTAL_STEP_UP_PASSKEY: whether a customer with a passkey may use it on an
        unregistered device instead of what the step-up policy asks."""
        return bool(settings.PORTAL_STEP_UP_PASSKEY)

    @property
    def lockout_threshold(self) -> int:
        return int(settings.PORTAL_LOCKOUT_THRESHOLD)

    @property
    def lockout_seconds(self) -> int:
        return int(settings.PORTAL_LOCKOUT_SECONDS)

    @property
    def code_ttl_seconds(self) -> int:
        return int(settings.PORTAL_CODE_TTL_SECONDS)

    @property
    def code_max_attempts(self) -> int:
        return int(settings.PORTAL_CODE_MAX_ATTEMPTS)

    @property
    def code_resend_seconds(self) -> int:
        """The wait before another code goes out, both for one flow (one login, recovery,
        contact change or enrollment) and to one email address or phone number, whichever flow
        or customer asks for it."""
        return int(settings.PORTAL_CODE_RESEND_SECONDS)

    @property
    def code_max_per_hour(self) -> int:
        """Codes one owner (an online user, or an enrolling customer) may be sent in any rolling
        hour, all flows and addresses together: a page cannot be made to send texts without end."""
        return int(settings.PORTAL_CODE_MAX_PER_HOUR)

    @property
    def code_send_ip_rate(self) -> str:
        """django-ratelimit rate for codes sent at the request of one client IP, all flows and
        owners together (on top of each page's own limit)."""
        return str(settings.PORTAL_CODE_SEND_IP_RATE)

    @property
    def device_lifetime_days(self) -> int:
        return int(settings.PORTAL_DEVICE_LIFETIME_DAYS)

    @property
    def webauthn_rp_id(self) -> str:
        """PORTAL_WEBAUTHN_RP_ID: the host name passkeys are bound to (default: the first host
        name of ALLOWED_HOSTS). Changing it makes every registered passkey unusable."""
        return str(settings.PORTAL_WEBAUTHN_RP_ID)

    @property
    def webauthn_origins(self) -> list[str]:
        """PORTAL_WEBAUTHN_ORIGINS: the https:// origins a passkey ceremony may come from."""
        return [str(origin) for origin in settings.PORTAL_WEBAUTHN_ORIGINS]

    @property
    def device_max_per_user(self) -> int:
        return int(settings.PORTAL_DEVICE_MAX_PER_USER)

    @property
    def reauth_seconds(self) -> int:
        """Sensitive profile changes need the password again after this long."""
        return int(settings.PORTAL_REAUTH_SECONDS)

    @property
    def admin_path(self) -> str:
        return str(settings.PORTAL_ADMIN_PATH)

    @property
    def event_retention_days(self) -> int:
        return int(settings.PORTAL_EVENT_RETENTION_DAYS)

    @property
    def esign_version(self) -> str:
        return str(settings.PORTAL_ESIGN_VERSION)


portal = PortalSettings()
