"""The Help Center's questions and answers, and the server-side search over them.

Each answer is a list of blocks: ("p", text) for a paragraph, ("ol"/"ul", [items]) for lists.
Every answer must stay true of what this portal does, so anything a setting decides (the lender's
name, support phone and hours, lock length, device lifetime, what a new device is asked) is a
`{placeholder}` filled from `portal.conf` each time the FAQ is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from portal.conf import portal


@dataclass(frozen=True)
class Faq:
    slug: str
    question: str
    blocks: tuple[tuple[str, object], ...]
    # (link text, URL name) shown under the answer; a URL that does not resolve is left out.
    links: tuple[tuple[str, str], ...] = ()
    # Extra words people search with that the answer itself does not use (never shown).
    keywords: str = ""

    @property
    def text(self) -> str:
        parts = [self.question]
        for _, content in self.blocks:
            parts.extend(content if isinstance(content, list) else [str(content)])
        parts.append(self.keywords)
        return " ".join(parts)

    def filled(self, facts: Mapping[str, object]) -> Faq:
        """This entry with every {placeholder} replaced by the current value."""

        def fill(content: object) -> object:
            if isinstance(content, list):
                return [str(item).format_map(facts) for item in content]
            return str(content).format_map(facts)

        return replace(
            self,
            question=self.question.format_map(facts),
            blocks=tuple((kind, fill(content)) for kind, content in self.blocks),
        )


@dataclass(frozen=True)
class Section:
    title: str
    faqs: list[Faq] = field(default_factory=list)


_STEP_UP = {
    "question+code": "ask you to answer one of your challenge questions and to enter a one-time "
    "security code",
    "code": "ask you to enter a one-time security code",
    "question": "ask you to answer one of your challenge questions (after a wrong answer, we also "
    "ask for a one-time security code)",
}


def facts() -> dict[str, object]:
    """The current values the answers quote."""
    return {
        "lender_name": portal.lender_name,
        "support_phone": portal.support_phone,
        "support_hours": portal.support_hours,
        "password_min": portal.password_min_length,
        "lockout_attempts": portal.lockout_threshold,
        "lockout_minutes": portal.lockout_seconds // 60,
        "device_days": portal.device_lifetime_days,
        "device_max": portal.device_max_per_user,
        "code_minutes": portal.code_ttl_seconds // 60,
        "reauth_minutes": portal.reauth_seconds // 60,
        "verify_max": portal.verify_max_failures,
        "verify_hours": portal.verify_window_seconds // 3600,
        "step_up": _STEP_UP.get(portal.step_up_policy, _STEP_UP["question+code"]),
    }


SECTIONS: list[Section] = [
    Section(
        "Enrolling and logging in",
        [
            Faq(
                "enroll",
                "How do I enroll for online access?",
                (
                    ("p", "Select Enroll Now at the top of any page. It takes five short steps:"),
                    (
                        "ol",
                        [
                            "Enter your account information.",
                            "Add your vehicle(s).",
                            "Create your username and password, and set up your profile, "
                            "including three challenge questions.",
                            "Authorize {lender_name} to send you account information "
                            "electronically.",
                            "Confirm it's you: we send a 6-digit code to the email address or "
                            "mobile number on your loan record, and you type it in. This also "
                            "shows you can open the messages we send you electronically.",
                        ],
                    ),
                    (
                        "p",
                        "Once the code is accepted you are logged in, and we ask whether to "
                        "register the device you are using. We also email the address on your "
                        "loan record that online access was set up.",
                    ),
                    ("p", "Before you start, have these at hand:"),
                    (
                        "ul",
                        [
                            "The last 4 digits of your Social Security number (SSN) or taxpayer "
                            "identification number (TIN)",
                            "Your date of birth",
                            "Your account number or your vehicle identification number (VIN)",
                            "The email inbox or mobile phone we have on your loan record",
                        ],
                    ),
                    (
                        "p",
                        "Your online account uses the email address and mobile number on your "
                        "loan record; you can't enter different ones while you enroll. If they "
                        "are out of date, or we have neither, call us at {support_phone} first. "
                        "After enrolling, you can change them under My Online Profile.",
                    ),
                    (
                        "p",
                        "Your password needs at least {password_min} characters. A passphrase "
                        "of a few unrelated words works well; you don't have to add capitals, "
                        "digits or symbols. We turn down passwords that are common or easy to "
                        "guess and tell you why.",
                    ),
                ),
                links=(("Enroll Now", "enrollment:start"),),
                keywords="sign up register signup new account",
            ),
            Faq(
                "log-in",
                "How do I log in?",
                (
                    (
                        "ol",
                        [
                            "Select Log In at the top of any page.",
                            "Type your username and password; both are on the same screen.",
                            "Select Log In.",
                        ],
                    ),
                    (
                        "p",
                        "From a device you have registered, you go straight to My Vehicles. "
                        "From any other device we first {step_up}.",
                    ),
                    ("p", "No username yet? Select Enroll Now to create one."),
                ),
                links=(("Log In", "signin:login"),),
                keywords="sign in signin login",
            ),
            Faq(
                "date-of-birth",
                "The site won't accept my date of birth. What should I do?",
                (
                    (
                        "p",
                        "Type the month first, then the day, then the year with all 4 digits: "
                        "for April 12, 1985, type 04121985 or 04/12/1985. Slashes, dashes, "
                        "dots or spaces between them are all fine, and so are 4/12/1985 and "
                        "no separators at all. Without separators, type all 8 digits.",
                    ),
                    (
                        "p",
                        "If the date is in that format and we still can't verify you, check the "
                        "other details too. After {verify_max} unsuccessful tries with the same "
                        "account number or VIN, you'll need to wait {verify_hours} hours or call "
                        "us at {support_phone}.",
                    ),
                ),
                keywords="dob birthday format slashes dashes month day year",
            ),
            Faq(
                "forgot-username",
                "I forgot my username. How do I find it?",
                (
                    (
                        "p",
                        "Select Forgot username? on the Log In page and confirm who you are "
                        "with the details you used to enroll: the last 4 digits of your SSN or "
                        "TIN, your date of birth and your account number or VIN. We email your "
                        "username to the address on file; the page shows which address, partly "
                        "hidden.",
                    ),
                ),
                links=(("Forgot username?", "recovery:forgot_username"),),
                keywords="recover lost user name",
            ),
            Faq(
                "forgot-password",
                "I forgot my password. How do I reset it?",
                (
                    (
                        "p",
                        "Select Forgot password? on the Log In page. Enter your username, "
                        "confirm your identity as you did when you enrolled, then enter the "
                        "security code we send to the email address or mobile phone on file. "
                        "You can then choose a new password.",
                    ),
                    (
                        "p",
                        "A reset logs you out everywhere and removes all your registered "
                        "devices, so each of them asks for extra verification the next time.",
                    ),
                ),
                links=(("Forgot password?", "recovery:forgot_password"),),
                keywords="recover lost change",
            ),
            Faq(
                "locked",
                "My online access is locked. What do I do?",
                (
                    (
                        "p",
                        "After {lockout_attempts} unsuccessful tries in a row (a wrong "
                        "password, challenge answer or security code) we lock online access "
                        "for {lockout_minutes} minutes, so nobody can keep guessing. The lock "
                        "ends by itself; try again after that.",
                    ),
                    (
                        "p",
                        "If the failed tries were not made from your registered device, that "
                        "device can usually still log in while the lock lasts.",
                    ),
                    (
                        "p",
                        "Can't wait, or didn't make those tries yourself? Call us at "
                        "{support_phone}, {support_hours}. Once we have confirmed who you are, "
                        "we can unlock your online access.",
                    ),
                ),
                links=(("Contact Us", "contact"),),
                keywords="lockout locked out blocked disabled unlock",
            ),
        ],
    ),
    Section(
        "Devices and extra verification",
        [
            Faq(
                "register-device",
                "Should I register my device?",
                (
                    (
                        "p",
                        "Only if it is your own phone, tablet or computer and nobody else uses "
                        "it. We then recognize it for {device_days} days and skip the extra "
                        "verification when you log in from it. You still type your username "
                        "and password every time.",
                    ),
                    (
                        "p",
                        "Never register a shared or public computer, such as one at a library, "
                        "hotel or workplace: select Not now instead.",
                    ),
                    (
                        "p",
                        "You can see and remove your devices under My Online Profile > "
                        "Registered devices. You can register up to {device_max}; adding "
                        "another drops the oldest.",
                    ),
                ),
                keywords="remember trusted computer phone browser",
            ),
            Faq(
                "extra-verification",
                "Why am I asked for more than my password? Is it safe?",
                (
                    (
                        "p",
                        "When you log in from a device we don't recognize, a correct password "
                        "alone is not enough for us. We {step_up} before we show your account. "
                        "This keeps you safe even if someone else learns your password.",
                    ),
                    (
                        "p",
                        "A security code has 6 digits, works once and expires after "
                        "{code_minutes} minutes. You choose whether we send it by email or "
                        "text message to the contact details on file. If you have set up an "
                        "authenticator app under My Online Profile > Two-step verification, you "
                        "can use a code from the app instead.",
                    ),
                    (
                        "p",
                        "Never share a security code with anyone. Our staff will never ask you "
                        "for one.",
                    ),
                ),
                keywords="additional information security code step up verify why",
            ),
            Faq(
                "challenge-questions",
                "What are challenge questions?",
                (
                    (
                        "p",
                        "They are three personal questions you choose and answer when you "
                        "enroll. We may ask one of them, picked at random, to confirm it's you "
                        "when you log in from a device we don't recognize.",
                    ),
                    (
                        "p",
                        "Capital letters and extra spaces in your answers don't matter. Choose "
                        "answers only you would know and that can't be found online. We store "
                        "them only in scrambled (hashed) form, so nobody here can read them.",
                    ),
                ),
                keywords="security questions answers",
            ),
            Faq(
                "change-challenge-questions",
                "How do I change my challenge questions?",
                (
                    (
                        "ol",
                        [
                            "Log In.",
                            "From My Vehicles, open Manage My Profile and select My Online "
                            "Profile.",
                            "Select Challenge Questions.",
                            "Select a question, keep it or pick a new one, and type the new "
                            "answer.",
                            "Select Update.",
                        ],
                    ),
                    (
                        "p",
                        "If you last typed your password more than {reauth_minutes} minutes "
                        "ago, we ask for it again first. We then email you to confirm the "
                        "change.",
                    ),
                ),
                keywords="update security questions answers",
            ),
        ],
    ),
    Section(
        "Protecting your identity",
        [
            Faq(
                "protect-identity",
                "How do you protect my identity?",
                (
                    (
                        "ul",
                        [
                            "Every page travels over an encrypted connection (HTTPS).",
                            "Your password and challenge answers are kept only as slow, salted "
                            "hashes, which cannot be turned back into what you typed, even by "
                            "our staff.",
                            "The details we check your identity with (SSN or TIN digits and "
                            "date of birth) are stored as keyed hashes, never in plain form.",
                            "Enrolling needs a code we send to the email address or mobile "
                            "number on your loan record, so knowing your personal details is "
                            "not enough to set up online access in your name.",
                            "A device we don't recognize needs more than your password, and "
                            "repeated wrong tries lock online access for a while.",
                            "We email you when something important changes, such as a new "
                            "registered device or a new password.",
                            "My Online Profile > Log-in activity lists recent log-ins and "
                            "failed tries, so you can spot anything odd.",
                        ],
                    ),
                    (
                        "p",
                        "We never ask for your full SSN, your password or a security code by "
                        "email, text message or phone.",
                    ),
                ),
                links=(("Security Center", "security_center"),),
                keywords="privacy safe secure encryption data",
            ),
            Faq(
                "real-site",
                "How can I tell I'm on the real {lender_name} site?",
                (
                    (
                        "ul",
                        [
                            "The address starts with https:// and your browser shows the "
                            "connection as secure. Check the web address closely for "
                            "misspellings or extra words.",
                            "To log in, type the address yourself or use your own bookmark, "
                            "never a link in an email or text message.",
                            "We don't use a personal picture or phrase on the Log In page: you "
                            "type your username and password on one screen.",
                            "The only link in our security emails is This wasn't me, and it "
                            "never asks for your password.",
                        ],
                    ),
                    (
                        "p",
                        "A message that asks for your password, a security code or your SSN, "
                        "or rushes you to act, is not from us. Don't reply or click.",
                    ),
                ),
                links=(("Security Center", "security_center"),),
                keywords="phishing fake scam fraud email text genuine trusted image padlock",
            ),
            Faq(
                "not-me",
                "I got an email about a change I didn't make. What now?",
                (
                    (
                        "p",
                        "Select This wasn't me in that email. We lock your online access at "
                        "once, log out every session and remove every registered device. Then "
                        "call us at {support_phone}, {support_hours}, and we'll help you back "
                        "in safely.",
                    ),
                ),
                keywords="suspicious unauthorized hacked alert notification",
            ),
        ],
    ),
]

_WORD = re.compile(r"\w+")
# Words too common to narrow anything down; a query of only these is searched as typed.
_STOP_TEXT = (
    "a am an and are be can do does for from get had has have how i if in is it its me my of on "
    "or so that the this to us was we what when where which who why will with you your"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())


def _query_words(query: str) -> list[str]:
    words = [w.casefold() for w in _WORD.findall(query)]
    meaningful = [w for w in words if w not in _STOP_WORDS] or words
    # "devices" should find "device": drop a plural s, then match words by their beginning.
    return [
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in meaningful
    ]


def search_faq(query: str) -> list[Section]:
    """Sections, filled with current values, keeping only the questions whose question or answer
    has a word beginning with each meaningful word of the query (any case). An empty query keeps
    everything."""
    current = facts()
    words = _query_words(query)
    results = []
    for section in SECTIONS:
        faqs = [faq.filled(current) for faq in section.faqs]
        if words:
            faqs = [faq for faq in faqs if _matches(faq, words)]
        if faqs:
            results.append(Section(section.title, faqs))
    return results


def _matches(faq: Faq, words: list[str]) -> bool:
    text_words = {w.casefold() for w in _WORD.findall(faq.text)}
    return all(any(t.startswith(w) for t in text_words) for w in words)
