"""Builds security/data/password-blocklist.txt: long passwords attackers try first.

Run from the checkout:  .venv/bin/python scripts/build_password_blocklist.py

The portal's minimum length is 15 characters, so a list of short common passwords would refuse
nothing. This list keeps only entries of at least 15 characters (compared ignoring case and
spaces, like security.passwords.BlocklistValidator):
- the long entries of Django's common-passwords list (itself from breach corpora);
- the predictable long forms people make from short common passwords to reach a length rule:
  doubled and tripled ("iloveyouiloveyou"), with digit runs or years appended
  ("password123456789", "footballfootball1");
- keyboard walks ("qwertyuiopasdfgh", "1qaz2wsx3edc4rfv") and well-known phrases.

The output is deterministic (sorted), so a rebuild changes the file only if this script does.
"""

from __future__ import annotations

import gzip
import re
import sys
from itertools import permutations
from pathlib import Path

MIN_LENGTH = 15
MAX_LENGTH = 128
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "security" / "data" / "password-blocklist.txt"

TOP_FOR_REPEATS = 1500  # most common passwords, doubled and tripled
TOP_WORDS_FOR_SUFFIXES = 400  # most common alphabetic passwords, with digit runs and years

DIGIT_RUNS = [
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "1234567890",
    "0123456789",
    "987654321",
    "0987654321",
    "111111",
    "000000",
    "!",
    "123!",
    "1234!",
    "123456!",
]
YEARS = [str(year) for year in range(1950, 2031)]

KEYBOARD_ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"]
KEYBOARD_COLUMNS = ["1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/"]

PHRASES = [
    "iloveyouiloveyou",
    "iloveyousomuch",
    "iloveyouforever",
    "iloveyoubaby",
    "iloveyoumom",
    "iloveyoumore",
    "iloveyoutoo",
    "iloveyoutothemoonandback",
    "ilovemyfamily",
    "ilovemykids",
    "ilovemymom",
    "ilovemydad",
    "ilovemywife",
    "ilovemyhusband",
    "ilovemydog",
    "ilovemycat",
    "ilovejesus",
    "ilovegod",
    "jesusismysavior",
    "jesuslovesme",
    "godisgood",
    "godisgoodallthetime",
    "passwordpassword",
    "mypasswordis",
    "thisismypassword",
    "thisisapassword",
    "thisisnotapassword",
    "mysecretpassword",
    "supersecretpassword",
    "verysecurepassword",
    "strongpassword",
    "letmeinletmein",
    "letmeinplease",
    "openthedoor",
    "welcometomyworld",
    "welcometothejungle",
    "correcthorsebatterystaple",
    "thequickbrownfoxjumpsoverthelazydog",
    "thequickbrownfox",
    "loremipsumdolorsitamet",
    "maytheforcebewithyou",
    "tobeornottobe",
    "tobeornottobethatisthequestion",
    "whatevertheweather",
    "onetwothreefourfive",
    "onetwothreefour",
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "changemechangeme",
    "changemeplease",
    "pleasechangeme",
    "donotforget",
    "dontforgetit",
    "iforgotmypassword",
    "forgotmypassword",
    "ihatepasswords",
    "ihateyou",
    "youwillneverguess",
    "nobodyknows",
    "hellohellohello",
    "helloworldhelloworld",
    "helloworld",
    "goodmorning",
    "happybirthday",
    "merrychristmas",
    "happynewyear",
    "rememberme",
    "trustnoone",
    "trustno1trustno1",
    "letsgobrandon",
    "makeamericagreatagain",
    "blacklivesmatter",
    "harrypotter",
    "gameofthrones",
    "starwarsstarwars",
    "thelordoftherings",
    "manchesterunited",
    "liverpoolfc",
    "newyorkyankees",
    "dallascowboys",
    "greenbaypackers",
    "pittsburghsteelers",
    "newenglandpatriots",
    "chicagobulls",
    "losangeleslakers",
]
PHRASE_SUFFIXES = ["", "1", "12", "123", "1234", "!", "1!", "123!", "2024", "2025", "2026"]


def normalize(value: str) -> str:
    return re.sub(r"\s+", "", value.casefold())


def django_common_passwords() -> list[str]:
    from django.contrib.auth.password_validation import CommonPasswordValidator

    path = CommonPasswordValidator().DEFAULT_PASSWORD_LIST_PATH
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def keyboard_walks() -> set[str]:
    walks: set[str] = set()
    rows = KEYBOARD_ROWS + [row[::-1] for row in KEYBOARD_ROWS]
    for count in (2, 3):
        for combo in permutations(rows, count):
            joined = "".join(combo)
            for end in range(MIN_LENGTH, len(joined) + 1):
                walks.add(joined[:end])
    columns = "".join(KEYBOARD_COLUMNS)
    interleaved = "".join(a + b for a, b in zip("1234567890", "qwertyuiop", strict=True))
    for source in (
        columns,
        interleaved,
        interleaved[::-1],
        "".join(c[::-1] for c in KEYBOARD_COLUMNS),
    ):
        for end in range(MIN_LENGTH, len(source) + 1):
            walks.add(source[:end])
    diagonal = "".join(c[1:] for c in KEYBOARD_COLUMNS)  # qazwsxedc...
    for end in range(MIN_LENGTH, len(diagonal) + 1):
        walks.add(diagonal[:end])
    for row in KEYBOARD_ROWS:
        walks.add(row * 2)
        walks.add(row * 3)
    return walks


def build() -> list[str]:
    common = django_common_passwords()
    entries: set[str] = {word for word in common if len(normalize(word)) >= MIN_LENGTH}
    for word in common[:TOP_FOR_REPEATS]:
        entries.add(word * 2)
        entries.add(word * 3)
    words = [word for word in common if word.isalpha() and len(word) >= 4]
    for word in words[:TOP_WORDS_FOR_SUFFIXES]:
        for suffix in [*DIGIT_RUNS, *YEARS]:
            entries.add(word + suffix)
        entries.add(word + word + "1")
        entries.add(word + word + "123")
    entries |= keyboard_walks()
    for phrase in PHRASES:
        for suffix in PHRASE_SUFFIXES:
            entries.add(phrase + suffix)
    normalized = {normalize(entry) for entry in entries}
    return sorted(e for e in normalized if MIN_LENGTH <= len(e) <= MAX_LENGTH and e.isprintable())


def main() -> int:
    sys.path.insert(0, str(ROOT))
    entries = build()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Long passwords attackers try first; one per line, lower case, without spaces.\n"
        "# Generated by scripts/build_password_blocklist.py; do not edit by hand.\n"
    )
    OUTPUT.write_text(header + "\n".join(entries) + "\n", encoding="utf-8")
    print(f"wrote {len(entries)} entries to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
