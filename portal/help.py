"""The Help Center's questions and answers, and the server-side search over them.

Each answer is a list of blocks: ("p", text) for a paragraph, ("ol"/"ul", [items]) for lists.
Every text is marked for translation and read in the customer's language when the FAQ is shown
or searched. Every answer must stay true of what this portal does, so anything a setting decides
(the lender's name, support phone and hours, lock length, device lifetime, what a new device is
asked) is a `%(placeholder)s` filled from `portal.conf` each time the FAQ is read. A paragraph
that depends on the step-up policy is a whole paragraph per policy ({policy: text}), never a
sentence with a phrase glued in, so each reads right in every language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext_lazy as _

from portal.conf import portal
from portal.languages import support_hours

Text = object  # a str, or a lazy translation read as str in the active language


@dataclass(frozen=True)
class Faq:
    slug: str
    question: Text
    blocks: tuple[tuple[str, object], ...]
    # (link text, URL name) shown under the answer; a URL that does not resolve is left out.
    links: tuple[tuple[Text, str], ...] = ()
    # Extra words people search with that the answer itself does not use (never shown).
    keywords: Text = ""

    @property
    def text(self) -> str:
        parts = [str(self.question)]
        for _kind, content in self.blocks:
            if isinstance(content, list):
                parts.extend(str(item) for item in content)
            elif isinstance(content, Mapping):
                parts.extend(str(text) for text in content.values())
            else:
                parts.append(str(content))
        parts.append(str(self.keywords))
        return " ".join(parts)

    def filled(self, facts: Mapping[str, object]) -> Faq:
        """This entry in the active language, with every %(placeholder)s replaced by the current
        value and each policy-dependent paragraph chosen for the current policy."""

        def fill(content: object) -> object:
            if isinstance(content, list):
                return [str(item) % facts for item in content]
            if isinstance(content, Mapping):
                policy = str(facts["step_up_policy"])
                return str(content.get(policy, content["question+code"])) % facts
            return str(content) % facts

        return replace(
            self,
            question=str(self.question) % facts,
            blocks=tuple((kind, fill(content)) for kind, content in self.blocks),
            links=tuple((str(label), name) for label, name in self.links),
            keywords=str(self.keywords),
        )


@dataclass(frozen=True)
class Section:
    title: Text
    faqs: list[Faq] = field(default_factory=list)


def facts() -> dict[str, object]:
    """The current values the answers quote."""
    return {
        "lender_name": portal.lender_name,
        "support_phone": portal.support_phone,
        "support_hours": support_hours(),
        "password_min": portal.password_min_length,
        "lockout_attempts": portal.lockout_threshold,
        "lockout_minutes": portal.lockout_seconds // 60,
        "device_days": portal.device_lifetime_days,
        "device_max": portal.device_max_per_user,
        "code_minutes": portal.code_ttl_seconds // 60,
        "reauth_minutes": portal.reauth_seconds // 60,
        "verify_max": portal.verify_max_failures,
        "verify_hours": portal.verify_window_seconds // 3600,
        "step_up_policy": portal.step_up_policy,
    }


SECTIONS: list[Section] = [
    Section(
        _("Enrolling and logging in"),
        [
            Faq(
                "enroll",
                _("How do I enroll for online access?"),
                (
                    (
                        "p",
                        _("Select Enroll Now at the top of any page. It takes five short steps:"),
                    ),
                    (
                        "ol",
                        [
                            _("Enter your account information."),
                            _("Add your vehicle(s)."),
                            _(
                                "Create your username and password, and set up your profile, "
                                "including three challenge questions."
                            ),
                            _(
                                "Authorize %(lender_name)s to send you account information "
                                "electronically."
                            ),
                            _(
                                "Confirm it's you: we send a 6-digit code to the email address or "
                                "mobile number on your loan record, and you type it in. This also "
                                "shows you can open the messages we send you electronically."
                            ),
                        ],
                    ),
                    (
                        "p",
                        _(
                            "Once the code is accepted you are logged in, and we ask whether to "
                            "register the device you are using. We also tell the email address "
                            "on your loan record (or, without one, the mobile number) that "
                            "online access was set up."
                        ),
                    ),
                    ("p", _("Before you start, have these at hand:")),
                    (
                        "ul",
                        [
                            _(
                                "The last 4 digits of your Social Security number (SSN) or "
                                "taxpayer identification number (TIN)"
                            ),
                            _("Your date of birth"),
                            _("Your account number or your vehicle identification number (VIN)"),
                            _("The email inbox or mobile phone we have on your loan record"),
                        ],
                    ),
                    (
                        "p",
                        _(
                            "Your online account uses the email address and mobile number on "
                            "your loan record; you can't enter different ones while you enroll. "
                            "If they are out of date, or we have neither, call us at "
                            "%(support_phone)s first. After enrolling, you can change them under "
                            "My Online Profile."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "Your password needs at least %(password_min)s characters. A "
                            "passphrase of a few unrelated words works well; you don't have to "
                            "add capitals, digits or symbols. We turn down passwords that are "
                            "common or easy to guess and tell you why."
                        ),
                    ),
                ),
                links=((_("Enroll Now"), "enrollment:start"),),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("sign up register signup new account"),
            ),
            Faq(
                "log-in",
                _("How do I log in?"),
                (
                    (
                        "ol",
                        [
                            _("Select Log In at the top of any page."),
                            _("Type your username and password; both are on the same screen."),
                            _("Select Log In."),
                        ],
                    ),
                    (
                        "p",
                        {
                            "question+code": _(
                                "From a device you have registered, you go straight to My "
                                "Vehicles. From any other device we first ask you to answer one "
                                "of your challenge questions and to enter a one-time security "
                                "code."
                            ),
                            "code": _(
                                "From a device you have registered, you go straight to My "
                                "Vehicles. From any other device we first ask you to enter a "
                                "one-time security code."
                            ),
                            "question": _(
                                "From a device you have registered, you go straight to My "
                                "Vehicles. From any other device we first ask you to answer one "
                                "of your challenge questions (after a wrong answer, we also ask "
                                "for a one-time security code)."
                            ),
                        },
                    ),
                    ("p", _("No username yet? Select Enroll Now to create one.")),
                ),
                links=((_("Log In"), "signin:login"),),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("sign in signin login"),
            ),
            Faq(
                "date-of-birth",
                _("The site won't accept my date of birth. What should I do?"),
                (
                    (
                        "p",
                        _(
                            "Type the month first, then the day, then the year with all 4 "
                            "digits: for April 12, 1985, type 04121985 or 04/12/1985. Slashes, "
                            "dashes, dots or spaces between them are all fine, and so are "
                            "4/12/1985 and no separators at all. Without separators, type all 8 "
                            "digits."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "If the date is in that format and we still can't verify you, check "
                            "the other details too. After %(verify_max)s unsuccessful tries with "
                            "the same account number or VIN, you'll need to wait "
                            "%(verify_hours)s hours or call us at %(support_phone)s."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("dob birthday format slashes dashes month day year"),
            ),
            Faq(
                "forgot-username",
                _("I forgot my username. How do I find it?"),
                (
                    (
                        "p",
                        _(
                            "Select Forgot username? on the Log In page and confirm who you are "
                            "with the details you used to enroll: the last 4 digits of your SSN "
                            "or TIN, your date of birth and your account number or VIN. We email "
                            "your username to the address on file; the page shows which address, "
                            "partly hidden."
                        ),
                    ),
                ),
                links=((_("Forgot username?"), "recovery:forgot_username"),),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("recover lost user name"),
            ),
            Faq(
                "forgot-password",
                _("I forgot my password. How do I reset it?"),
                (
                    (
                        "p",
                        _(
                            "Select Forgot password? on the Log In page. Enter your username, "
                            "confirm your identity as you did when you enrolled, then enter the "
                            "security code we send to the email address or mobile phone on file. "
                            "You can then choose a new password."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "A reset logs you out everywhere and removes all your registered "
                            "devices, so each of them asks for extra verification the next time."
                        ),
                    ),
                ),
                links=((_("Forgot password?"), "recovery:forgot_password"),),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("recover lost change"),
            ),
            Faq(
                "locked",
                _("My online access is locked. What do I do?"),
                (
                    (
                        "p",
                        _(
                            "After %(lockout_attempts)s unsuccessful tries in a row (a wrong "
                            "password, challenge answer or security code) we lock online access "
                            "for %(lockout_minutes)s minutes, so nobody can keep guessing. The "
                            "lock ends by itself; try again after that."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "If the failed tries were not made from your registered device, that "
                            "device can usually still log in while the lock lasts."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "Can't wait, or didn't make those tries yourself? Call us at "
                            "%(support_phone)s, %(support_hours)s. Once we have confirmed who you "
                            "are, we can unlock your online access."
                        ),
                    ),
                ),
                links=((_("Contact Us"), "contact"),),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("lockout locked out blocked disabled unlock"),
            ),
        ],
    ),
    Section(
        _("Devices and extra verification"),
        [
            Faq(
                "register-device",
                _("Should I register my device?"),
                (
                    (
                        "p",
                        _(
                            "Only if it is your own phone, tablet or computer and nobody else "
                            "uses it. We then recognize it for %(device_days)s days and skip the "
                            "extra verification when you log in from it. You still type your "
                            "username and password every time."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "Never register a shared or public computer, such as one at a "
                            "library, hotel or workplace: select Not now instead."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "You can see and remove your devices under My Online Profile > "
                            "Registered devices. You can register up to %(device_max)s; adding "
                            "another drops the oldest."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("remember trusted computer phone browser"),
            ),
            Faq(
                "extra-verification",
                _("Why am I asked for more than my password? Is it safe?"),
                (
                    (
                        "p",
                        {
                            "question+code": _(
                                "When you log in from a device we don't recognize, a correct "
                                "password alone is not enough for us. We ask you to answer one "
                                "of your challenge questions and to enter a one-time security "
                                "code before we show your account. This keeps you safe even if "
                                "someone else learns your password."
                            ),
                            "code": _(
                                "When you log in from a device we don't recognize, a correct "
                                "password alone is not enough for us. We ask you to enter a "
                                "one-time security code before we show your account. This keeps "
                                "you safe even if someone else learns your password."
                            ),
                            "question": _(
                                "When you log in from a device we don't recognize, a correct "
                                "password alone is not enough for us. We ask you to answer one "
                                "of your challenge questions (after a wrong answer, we also ask "
                                "for a one-time security code) before we show your account. This "
                                "keeps you safe even if someone else learns your password."
                            ),
                        },
                    ),
                    (
                        "p",
                        _(
                            "A security code has 6 digits, works once and expires after "
                            "%(code_minutes)s minutes. You choose whether we send it by email or "
                            "text message to the contact details on file. If you have set up an "
                            "authenticator app under My Online Profile > Two-step verification, "
                            "you can use a code from the app instead."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "Never share a security code with anyone. Our staff will never ask "
                            "you for one."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("additional information security code step up verify why"),
            ),
            Faq(
                "challenge-questions",
                _("What are challenge questions?"),
                (
                    (
                        "p",
                        _(
                            "They are three personal questions you choose and answer when you "
                            "enroll. We may ask one of them, picked at random, to confirm it's "
                            "you when you log in from a device we don't recognize."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "Capital letters and extra spaces in your answers don't matter. "
                            "Choose answers only you would know and that can't be found online. "
                            "We store them only in scrambled (hashed) form, so nobody here can "
                            "read them."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("security questions answers"),
            ),
            Faq(
                "change-challenge-questions",
                _("How do I change my challenge questions?"),
                (
                    (
                        "ol",
                        [
                            _("Log In."),
                            _(
                                "From My Vehicles, open Manage My Profile and select My Online "
                                "Profile."
                            ),
                            _("Select Challenge Questions."),
                            _(
                                "Select a question, keep it or pick a new one, and type the new "
                                "answer."
                            ),
                            _("Select Update."),
                        ],
                    ),
                    (
                        "p",
                        _(
                            "If you last typed your password more than %(reauth_minutes)s "
                            "minutes ago, we ask for it again first. We then email you to "
                            "confirm the change."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("update security questions answers"),
            ),
        ],
    ),
    Section(
        _("Passkeys"),
        [
            Faq(
                "passkeys",
                _("What is a passkey?"),
                (
                    (
                        "p",
                        _(
                            "A passkey is a way to log in without typing your password. It is "
                            "kept on your phone, computer or security key, and you unlock it "
                            "the way you unlock that device: with your fingerprint, your face or "
                            "a PIN. The secret part never leaves your device; we keep only a "
                            "public part, which cannot be used to log in."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "A passkey works only on this website. A fake site that looks like "
                            "ours cannot use it, and there is nothing you could be tricked into "
                            "typing, so it protects you from phishing better than a password."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "You need a browser and device that support passkeys; most recent "
                            "phones, tablets and computers do. A passkey is an extra way in: "
                            "your username and password keep working as before."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("webauthn fido biometric fingerprint face pin passwordless key"),
            ),
            Faq(
                "add-passkey",
                _("How do I add a passkey?"),
                (
                    (
                        "ol",
                        [
                            _("Log In."),
                            _(
                                "From My Vehicles, open Manage My Profile and select My Online "
                                "Profile."
                            ),
                            _("Select Passkeys."),
                            _(
                                "If you like, type a name for the passkey, such as Work laptop, "
                                "so you can tell your passkeys apart."
                            ),
                            _(
                                "Select Add a passkey and do what your browser or device asks, "
                                "such as touching the fingerprint reader."
                            ),
                        ],
                    ),
                    (
                        "p",
                        _(
                            "If you last typed your password more than %(reauth_minutes)s "
                            "minutes ago, we ask for it again first. We then email you to "
                            "confirm the change."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "If the Add a passkey button does not appear, your browser does not "
                            "support passkeys (or JavaScript is off). You can keep logging in "
                            "with your password."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("create set up new passkey"),
            ),
            Faq(
                "passkey-log-in",
                _("How do I log in with a passkey?"),
                (
                    (
                        "p",
                        _(
                            "On the Log In page, select Use a passkey and unlock the passkey on "
                            "your device. You are logged in without typing your username or "
                            "password, and we don't ask a challenge question or send a code: "
                            "the passkey already proves it's you."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "If you log in with your username and password instead, on a device "
                            "you have not registered, you can confirm it's you with your passkey "
                            "instead of a challenge question and a code."
                        ),
                    ),
                ),
                links=((_("Log In"), "signin:login"),),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("sign in signin login without password"),
            ),
            Faq(
                "remove-passkey",
                _("How do I remove a passkey, for example if I lose my phone?"),
                (
                    (
                        "p",
                        _(
                            "Under My Online Profile > Passkeys, select Remove next to the "
                            "passkey. It stops working at once, and we email you to confirm."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "Can't log in to remove it yourself? Call us at %(support_phone)s, "
                            "%(support_hours)s. Once we have confirmed who you are, our support "
                            "team can remove one passkey or all of them, and we email you when "
                            "we do."
                        ),
                    ),
                    (
                        "p",
                        _(
                            "If we email you that a passkey was added and you didn't add it, "
                            "select This wasn't me in that email: we remove every passkey on "
                            "your account along with everything else that email describes."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("delete lost stolen phone device passkey"),
            ),
        ],
    ),
    Section(
        _("Protecting your identity"),
        [
            Faq(
                "protect-identity",
                _("How do you protect my identity?"),
                (
                    (
                        "ul",
                        [
                            _("Every page travels over an encrypted connection (HTTPS)."),
                            _(
                                "Your password and challenge answers are kept only as slow, "
                                "salted hashes, which cannot be turned back into what you typed, "
                                "even by our staff."
                            ),
                            _(
                                "The details we check your identity with (SSN or TIN digits and "
                                "date of birth) are stored as keyed hashes, never in plain form."
                            ),
                            _(
                                "Enrolling needs a code we send to the email address or mobile "
                                "number on your loan record, so knowing your personal details is "
                                "not enough to set up online access in your name."
                            ),
                            _(
                                "A device we don't recognize needs more than your password, and "
                                "repeated wrong tries lock online access for a while."
                            ),
                            _(
                                "We email you when something important changes, such as a new "
                                "registered device or a new password."
                            ),
                            _(
                                "My Online Profile > Log-in activity lists recent log-ins and "
                                "failed tries, so you can spot anything odd."
                            ),
                        ],
                    ),
                    (
                        "p",
                        _(
                            "We never ask for your full SSN, your password or a security code by "
                            "email, text message or phone."
                        ),
                    ),
                ),
                links=((_("Security Center"), "security_center"),),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("privacy safe secure encryption data"),
            ),
            Faq(
                "real-site",
                _("How can I tell I'm on the real %(lender_name)s site?"),
                (
                    (
                        "ul",
                        [
                            _(
                                "The address starts with https:// and your browser shows the "
                                "connection as secure. Check the web address closely for "
                                "misspellings or extra words."
                            ),
                            _(
                                "To log in, type the address yourself or use your own bookmark, "
                                "never a link in an email or text message."
                            ),
                            _(
                                "We don't use a personal picture or phrase on the Log In page: "
                                "you type your username and password on one screen."
                            ),
                            _(
                                "The only link in our security emails is This wasn't me, and it "
                                "never asks for your password."
                            ),
                        ],
                    ),
                    (
                        "p",
                        _(
                            "A message that asks for your password, a security code or your SSN, "
                            "or rushes you to act, is not from us. Don't reply or click."
                        ),
                    ),
                ),
                links=((_("Security Center"), "security_center"),),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("phishing fake scam fraud email text genuine trusted image padlock"),
            ),
            Faq(
                "not-me",
                _("I got an email about a change I didn't make. What now?"),
                (
                    (
                        "p",
                        _(
                            "Select This wasn't me in that email. We lock your online access at "
                            "once, log out every session and remove every registered device and "
                            "every passkey. Then call us at %(support_phone)s, %(support_hours)s, "
                            "and we'll help you back in safely."
                        ),
                    ),
                ),
                # Translators: words people may search with, never shown; any words will do.
                keywords=_("suspicious unauthorized hacked alert notification"),
            ),
        ],
    ),
]

_WORD = re.compile(r"\w+")
# Words too common to narrow anything down, in English and Spanish; a query of only these is
# searched as typed.
_STOP_TEXT = (
    "a am an and are be can do does for from get had has have how i if in is it its me my of on "
    "or so that the this to us was we what when where which who why will with you your "
    "al como con cual cuando de del donde el en es esta este hay la las lo los mi mis no para "
    "por puedo que quien se si su sus un una uno usted y yo"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())


def _folded(text: str) -> str:
    """Lower case without accents, so "contrasena" finds "contraseña" and "numero" "número"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _query_words(query: str) -> list[str]:
    words = [w for w in _WORD.findall(_folded(query))]
    meaningful = [w for w in words if w not in _STOP_WORDS] or words
    # "devices" should find "device": drop a plural s, then match words by their beginning.
    return [
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in meaningful
    ]


def search_faq(query: str) -> list[Section]:
    """Sections in the active language, filled with current values, keeping only the questions
    whose question or answer has a word beginning with each meaningful word of the query (any
    case, any accents). An empty query keeps everything."""
    current = facts()
    words = _query_words(query)
    results = []
    for section in SECTIONS:
        faqs = [faq.filled(current) for faq in section.faqs]
        if words:
            faqs = [faq for faq in faqs if _matches(faq, words)]
        if faqs:
            results.append(Section(str(section.title), faqs))
    return results


def _matches(faq: Faq, words: list[str]) -> bool:
    text_words = set(_WORD.findall(_folded(faq.text)))
    return all(any(t.startswith(w) for t in text_words) for w in words)
