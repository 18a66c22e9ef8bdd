"""Which passwords an account may have: length, variety, not the user's name, not a common password.

No package with a published common-password list (zxcvbn, Django's list) is installed, so
this module ships a short curated list of the passwords that head every published breach
list (plus clinic words) and catches their usual disguises by rule instead of by listing
them: case, digits and symbols added at the ends (``Password123!``) and look-alike
characters (``P@ssw0rd``) are undone before the lookup. The rules, each with its own message:

- at least :data:`MIN_LENGTH` characters;
- at least two kinds of character (lower case, upper case, digits, spaces or symbols);
- at least :data:`MIN_DISTINCT` different characters (``aaaaaaaaa1`` is not ten characters of secret);
- not containing the user name (ignoring case);
- not a common password, nor one with only case, end digits/symbols or look-alikes changed.
"""

from __future__ import annotations

import re

MIN_LENGTH = 10
MIN_DISTINCT = 5

# The most common passwords of published breach lists (the NCSC "100k" list and SecLists' top
# lists head with these), keyboard walks, and words a clinic would reach for first. Entries are
# in the normalised form (lower case, no end digits or symbols, look-alikes undone).
COMMON_PASSWORDS = frozenset("""
password passwort passord pass pasword passw admin administrator root user guest login welcome
letmein changeme default secret master qwerty qwertyuiop qwertyui qwertz azerty asdf asdfgh asdfghjkl
zxcvbn zxcvbnm qazwsx qazwsxedc wsxedc qweasd qweasdzxc iloveyou loveyou lovely love monkey dragon
football baseball basketball soccer hockey sunshine princess trustno shadow superman batman starwars
pokemon master killer freedom whatever nothing abc abcdef abcd abcdefg abcdefgh michael jennifer
jordan hunter ranger buster thomas robert daniel charlie andrew matthew jessica ashley amanda
summer winter spring autumn hello hellohello flower cookie cheese chocolate computer internet
samsung apple google microsoft windows linux orange banana pepper ginger tigger mustang harley
maverick jasmine nicole michelle daniela access security system server service support temp
temporary test testing tester demo sample example hospital clinic clinical medical medicine
doctor nurse patient health healthcare radiology radiologist therapist therapy surgery surgeon
pharmacy physician medstation workstation station office company account money family friends
mother father baby angel blessed faith jesus christ heaven matrix ninja zombie killer
whatever fuckyou fuckoff biteme asshole secretpassword mypassword yourpassword newpassword
passwordpassword adminadmin rootroot useruser testtest iloveu qwerty abcabc aaaaaa
""".split())

_LOOKALIKES = str.maketrans({"0": "o", "1": "i", "!": "i", "|": "i", "3": "e", "4": "a", "@": "a",
                             "5": "s", "$": "s", "7": "t", "+": "t", "8": "b", "9": "g"})
_END_JUNK = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


class WeakPassword(ValueError):
    """The password breaks a rule; the message says which, in words a user can act on."""


def normalise(password: str) -> str:
    """The password as the list stores it: lower case, end digits/symbols removed, look-alikes undone."""
    text = password.strip().lower()
    stripped = _END_JUNK.sub("", text)
    return (stripped or text).translate(_LOOKALIKES).replace(" ", "")


def _is_common(password: str) -> bool:
    base = normalise(password)
    if base in COMMON_PASSWORDS or not base:
        return True
    # the same word repeated (passwordpassword, abcabcabc) or a plain sequence (1234567890, qwertyuiop)
    lowered = password.lower()
    if any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES):
        return True
    for size in range(1, len(base) // 2 + 1):
        if len(base) % size == 0 and base[:size] * (len(base) // size) == base and base[:size] in COMMON_PASSWORDS:
            return True
    return False


def _classes(password: str) -> int:
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))


def check_password(password: str, user_name: str = "") -> None:
    """Raise :class:`WeakPassword` naming the first rule ``password`` breaks; return None when it is acceptable."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Passwords need at least {MIN_LENGTH} characters; a short phrase of several words "
                           "is easy to remember and hard to guess.")
    if _classes(password) < 2:
        raise WeakPassword("Use at least two kinds of character (lower case, upper case, digits, spaces or "
                           "symbols), not only one.")
    if len(set(password)) < MIN_DISTINCT:
        raise WeakPassword(f"The password repeats too few characters; use at least {MIN_DISTINCT} different ones.")
    name = (user_name or "").strip().lower()
    if len(name) >= 3 and name in password.lower():
        raise WeakPassword("The password must not contain the user name.")
    if _is_common(password):
        raise WeakPassword("This is one of the most common passwords (or one with only digits, symbols or "
                           "look-alike characters added); attackers try those first. Choose another.")
