"""Clinical voice, deterministically: a client's first-person sentence becomes third-person reported
speech, a clinician's sentence becomes an intervention, observation or plan item.

    "I've been sleeping about four hours a night."   -> "Client reports sleeping about four hours a night."
    "I haven't been sleeping well."                   -> "Client reports not sleeping well."
    "I stopped the sertraline, I didn't tell her."    -> "Client reports they stopped the sertraline,
                                                          they did not tell her."
    "We practised 4-6 breathing."                     -> "Practised 4-6 breathing."
    "I'd like you to keep a sleep diary."             -> "Client to keep a sleep diary."
    "You seem restless today."                        -> "Client seems restless today."

Only pronouns, the reporting frame and contractions change: every negation, number, name, date and
direction word of the source is kept in place (contractions are spelled out, "don't" -> "do not").
The caller (:mod:`medstation.notes.drafting`) still runs every result through
:func:`medstation.notes.rewrite.check_rewrite` and keeps an attributed verbatim quote when it refuses.
Client pronouns are "they/them/their" unless the caller passes "he" or "she" (see
:func:`medstation.notes.voicing.client_pronouns`: only when the transcript states it).
"""

from __future__ import annotations

import re

from medstation.notes.transcript import SpeakerRole

_NEG = {"don't": "do not", "doesn't": "does not", "didn't": "did not", "haven't": "have not", "hasn't": "has not",
        "hadn't": "had not", "can't": "cannot", "won't": "will not", "wasn't": "was not", "weren't": "were not",
        "isn't": "is not", "aren't": "are not", "couldn't": "could not", "wouldn't": "would not",
        "shouldn't": "should not", "ain't": "am not"}
_NEG_RE = re.compile(r"\b(%s)\b" % "|".join(re.escape(k) for k in _NEG), re.IGNORECASE)
_ADVERBS = frozenset("also still just really never always often only usually sometimes actually already even "
                     "honestly mostly kind sort barely hardly probably definitely".split())
#: Third-person singular forms that are not "+s".
_IRREGULAR = {"are": "is", "were": "was", "have": "has", "do": "does", "go": "goes", "am": "is", "'re": "is",
              "'ve": "has", "'m": "is"}
_UNCHANGED = frozenset("can could will would should might must may did was had shall cannot 'd 'll to too and or "
                       "not who that all both guys two alone yourself".split())
_CLAUSE_OPENERS = frozenset("and but so that if when because since while or as".split())

_GERUND = [  # (pattern at the start of a client sentence, frame); group "rest" keeps the words in order
    (re.compile(r"^I(?:'ve| have) been (?P<rest>(?:\w+ly )?\w+ing\b.*)$", re.I), "reports {rest}"),
    (re.compile(r"^I(?: haven't| have not|'ve not) been (?P<rest>(?:\w+ly )?\w+ing\b.*)$", re.I), "reports not {rest}"),
    (re.compile(r"^I(?:'m| am) no longer (?P<rest>\w+ing\b.*)$", re.I), "reports no longer {rest}"),
    (re.compile(r"^I(?:'ve| have) been feeling (?P<rest>.*)$", re.I), "reports feeling {rest}"),
    (re.compile(r"^I(?:'m| am) feeling (?P<rest>.*)$", re.I), "reports feeling {rest}"),
]


def role_noun(speaker: str, role: SpeakerRole) -> str:
    """How the note names the speaker: Client / Patient / Therapist / Clinician."""
    low = speaker.lower()
    if role is SpeakerRole.client:
        return "Patient" if low.startswith(("patient", "pt", "p")) and not low.startswith("partner") else "Client"
    if low.startswith(("doctor", "dr", "physician", "psychiatrist")):
        return "Doctor"
    if low.startswith(("nurse", "np")):
        return "Nurse"
    return "Therapist"


def _expand_negations(text: str) -> str:
    def sub(m: re.Match) -> str:
        word = _NEG[m.group().lower()]
        return word[0].upper() + word[1:] if m.group()[0].isupper() else word
    return _NEG_RE.sub(sub, text.replace("’", "'"))


#: Verbs that, right after "you", show it is the subject ("on exam you appear tearful").
_SUBJECT_VERBS = frozenset("""appear appears seem look sound feel need want mention mentioned said told describe
report endorse deny agree agreed have are were 're 've do don't does""".split())
_PAST = frozenset("""made had was were did said went got took gave saw came felt told thought kept left knew found put
set cut hit let ran sat stood slept ate drank wrote spoke brought bought began lost met paid sent spent became seemed
heard held led meant read sold understood woke won wore broke chose drove fell forgot grew hid hurt quit shut threw
been done seen gone""".split())


def _third_singular(word: str) -> str:
    low = word.lower()
    if low in _PAST:
        return word
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low in _UNCHANGED or low.endswith("ed") or not low.isalpha():
        return word
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return word + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _conjugate_after(words: list[str], i: int) -> None:
    """The verb after a new third-person singular subject at ``words[i]`` agrees with it (adverbs skipped)."""
    j = i + 1
    while j < len(words) and words[j].lower().strip(",") in _ADVERBS:
        j += 1
    m = re.fullmatch(r"([A-Za-z']+)([,.;:!?]*)", words[j]) if j < len(words) else None
    if m:
        words[j] = _third_singular(m.group(1)) + m.group(2)


def _is_subject(words: list[str], i: int) -> bool:
    if i == 0:
        return True
    prev = words[i - 1]
    return prev.endswith((",", ";", ":")) or prev.lower() in _CLAUSE_OPENERS


def _split_contractions(text: str) -> list[str]:
    """Words, with "you're"/"I've" split into the pronoun and its clitic ("you", "'re")."""
    out = []
    for w in text.split():
        m = re.fullmatch(r"(?i)(I|you|we)('m|'re|'ve|'ll|'d)([,.;:!?]*)", w)
        out += [m.group(1), m.group(2) + m.group(3)] if m else [w]
    return out


def _join(words: list[str]) -> str:
    text = " ".join(words)
    text = re.sub(r" '(re|ve|m)\b", lambda m: {"re": " are", "ve": " have", "m": " am"}[m.group(1)], text)
    text = re.sub(r" '(ll)\b", " will", text)
    return re.sub(r" '(d)\b", " would", text)


#: subject, object, possessive, reflexive, possessive pronoun
PRONOUNS = {"they": ("they", "them", "their", "themselves", "theirs"), "he": ("he", "him", "his", "himself", "his"),
            "she": ("she", "her", "her", "herself", "hers")}


def _client_clause(text: str, therapist: str = "therapist", pronouns: str = "they") -> str:
    """A client's words with first person -> third person (``pronouns``) and "you" -> the clinician."""
    subj, obj, poss, refl, own = PRONOUNS[pronouns]
    words = _split_contractions(_expand_negations(text))
    out = []
    for i, w in enumerate(words):
        core, tail = re.match(r"^(.*?)([,.;:!?\"]*)$", w).groups()
        low = core.lower()
        rep = {"i": subj, "me": obj, "my": poss, "mine": own, "myself": refl,
               "we": "they", "us": "them", "our": "their", "ourselves": "themselves",
               "you": f"the {therapist}", "your": f"the {therapist}'s", "yourself": f"the {therapist}"}.get(low)
        if low == "i" and pronouns != "they" and not tail:
            _conjugate_after(words, i)
        if low in ("am", "'m") and out and out[-1].lower() == "they":
            rep = "are"
        elif low == "was" and out and out[-1].lower() == "they":
            rep = "were"
        out.append((rep + tail) if rep else w)
    return _join(out)


def spell_out(text: str) -> str:
    """Contractions spelled out ("don't" -> "do not", "I've" -> "I have"): the form both a transcript
    sentence and its voiced form are compared in, so a check sees the same negations on both sides."""
    words = _split_contractions(_expand_negations(text))
    return _join(words)


def client_reported(text: str, speaker_noun: str = "Client", therapist: str = "therapist",
                    pronouns: str = "they") -> str:
    """Third-person reported speech of a client's cleaned sentence (ends with a full stop)."""
    return client_candidates(text, speaker_noun, therapist, pronouns)[0]


def client_candidates(text: str, speaker_noun: str = "Client", therapist: str = "therapist",
                      pronouns: str = "they") -> list[str]:
    """Reported-speech forms of a client's sentence, most note-like first (gerund frame, then "that" clause)."""
    body = text.strip().rstrip(".!")
    answer = re.match(r"(?i)^(no|nope|yes|yeah|yep)\b[,.;:!]*\s+(?=\S)", body)
    if answer:  # "No, I didn't tell her." keeps its "no" as the answer it is
        word = "no" if answer.group(1).lower() in ("no", "nope") else "yes"
        return [f"{speaker_noun} answers {word}: {_client_clause(body[answer.end():], therapist, pronouns)}."]
    out = []
    for pattern, frame in _GERUND:
        m = pattern.match(body)
        if m:
            rest = _client_clause(m.group("rest"), therapist, pronouns)
            out.append(f"{speaker_noun} {frame.format(rest=rest)}.")
            break
    return out + [f"{speaker_noun} reports {_lower_first(_client_clause(body, therapist, pronouns))}."]


def _lower_first(clause: str) -> str:
    """The clause's first word in lower case unless it looks like a name ("Dr. Patel", "AA", "Lena Smith")."""
    parts = clause.split(" ", 2)
    first = parts[0]
    keep = first.rstrip(".,") in ("Dr", "Mr", "Mrs", "Ms", "I") or (len(first) > 1 and first.isupper()) or \
        (len(parts) > 1 and parts[1][:1].isupper() and parts[1] != "I")
    return clause if keep else first.lower() + clause[len(first):]


_PLAN_REQUEST = re.compile(r"^(?:(?:for (?:homework|next week|this week|next time),?\s*)?(?:I(?:'d| would)(?: also)? "
                           r"like you to|I(?: also| really)? (?:want|need) you to|I'd love for you to|you agreed to|"
                           r"your homework is(?: to)?|your homework (?:this week )?is to|please))\s+(?P<rest>.+)$", re.I)
_FOR_HOMEWORK = re.compile(r"^(?:for (?:homework|next week|this week|next time)),?\s+(?P<rest>.+)$", re.I)
_WE_DID = re.compile(r"^(?:(?P<when>today|in session|this session),?\s+)?we(?: also)?\s+(?P<rest>(?:\w+ed|did|made|"
                     r"built|went|wrote|set|began|began|drew|spent|came up|took|gave|thought)\b.*)$", re.I)
_LETS = re.compile(r"^(?:(?:today|so|now),?\s+)?let's(?: also)?\s+(?P<rest>.+)$", re.I)
_WE_WILL = re.compile(r"^we(?:'ll| will| are going to|'re going to)\s+(?P<rest>.+)$", re.I)
_I_WILL = re.compile(r"^(?:I(?:'ll| will)|I(?:'m| am) (?:going to|also going to)|I(?:'m| am) also going to)\s+"
                     r"(?:also\s+)?(?P<rest>.+)$", re.I)
_I_SEE = re.compile(r"^I (?:can see|see|noticed?|observed?|could see)(?: that)?\s+(?P<rest>.+)$", re.I)
_OUR_NEXT = re.compile(r"^our next (?P<rest>(?:session|appointment|meeting)\b.+)$", re.I)


def _clinician_clause(text: str, client: str = "client", clinician: str = "therapist", pronouns: str = "they") -> str:
    """A clinician's words with "you" -> client (verbs made to agree). The clinician signs the note, so
    their own "I"/"we" stay ("I think client is retaining fluid"); ``clinician`` is kept for callers."""
    words = _split_contractions(_expand_negations(text))
    out: list[str] = []
    for i, w in enumerate(words):
        core, tail = re.match(r"^(.*?)([,.;:!?\"]*)$", w).groups()
        low = core.lower()
        if low == "you":
            out.append(client + tail)
            nxt = words[i + 1].lower() if i + 1 < len(words) else ""
            if not tail and (_is_subject(words, i) or nxt in _IRREGULAR or nxt in _SUBJECT_VERBS):
                _conjugate_after(words, i)
            continue
        _, _, poss, refl, own = PRONOUNS[pronouns]
        # The clinician is the note's author: their own "I", "we", "me" stay as said.
        rep = {"your": poss, "yourself": refl, "yours": own}.get(low)
        out.append((rep + tail) if rep else w)
    return _join(out)


def agreement(next_line: str) -> bool:
    return bool(re.match(r"(?i)^\s*(?:ok(?:ay)?|yes|yeah|sure|i will|i'll|i can|sounds good|that works|"
                         r"will do|i could)\b", next_line))


_GO_AHEAD = re.compile(r"(?i)^(?:so,?\s+|and\s+|now,?\s+)?(?:(?:i|we)(?:'re| are|'m| am)?\s+(?:going to|gon na|gonna|"
                       r"want to|wan na|wanna|would like to|'d like to|will|'ll|need to|plan to)|let's|let us)\s+"
                       r"(?:just\s+)?go ahead and\s+(?P<rest>.+)$")


def clinician_item(text: str, *, client_agreed: bool = False, client: str = "client",
                   clinician: str = "therapist", pronouns: str = "they") -> str:
    """An intervention, observation or plan item from a clinician's cleaned sentence.

    ``client``/``clinician``: how the note names them ("client"/"patient", "therapist"/"doctor"; lower case)."""
    body = text.strip().rstrip(".!")
    noun = client.capitalize()

    def clause(words: str) -> str:
        return _clinician_clause(words, client, clinician, pronouns)

    m = _GO_AHEAD.match(body)
    if m:  # "I want to go ahead and increase your lasix" -> "Increase their lasix": a plan item
        return _cap(clause(m.group("rest"))) + "."

    m = _PLAN_REQUEST.match(body) or _FOR_HOMEWORK.match(body)
    if m:
        rest = clause(m.group("rest"))
        lead = f"{noun} agreed to" if client_agreed else f"{noun} to"
        if rest.split(" ", 1)[0].lower() == client:
            return _cap(clause(m.group("rest"))) + "."
        return f"{lead} {rest}."
    m = _WE_DID.match(body)
    if m:
        rest = clause(m.group("rest"))
        when = f" {m.group('when').lower()}" if m.group("when") else ""
        return _cap(rest) + when + "."
    m = _LETS.match(body)
    if m:
        rest = re.sub(r"(?i)^plan (?:for you |on you |for client )?(?:to |on )", "you to ", m.group("rest"))
        rest = clause(rest)
        return "Plan: " + rest + "."
    m = _WE_WILL.match(body)
    if m:
        return "Will " + clause(m.group("rest")) + "."
    m = _I_WILL.match(body)
    if m:
        return "Will " + clause(m.group("rest")) + "."
    m = _I_SEE.match(body)
    if m:
        return "Observed: " + clause(m.group("rest")) + "."
    m = _OUR_NEXT.match(body)
    if m:
        return "Next " + clause(m.group("rest")) + "."
    return _cap(clause(body)) + "."


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def quoted(text: str, noun: str) -> str:
    """The fallback when a transform is refused: the cleaned sentence verbatim, attributed."""
    return f"{noun}: \"{text.strip()}\""


_DENIAL = re.compile(r"(?i)^(?:no|nope|none|never|not really|not at all|nothing)(?:[,.]?\s*(?:nothing like that|none|"
                     r"never|not really|not at all|not this week|i haven't|i have not|i don't|i do not|not lately|"
                     r"nothing))?\.?$")
_YES_NO_OBJECT = re.compile(r"(?i)^(?:and\s+)?(?:any|have you (?:had|been having|noticed|had any|been|ever had)|"
                            r"do you have|are you having|did you have|has there been|have there been)\s+(?:any\s+)?"
                            r"(?P<obj>.+)$")
_IT_OBJECT = re.compile(r"(?i)\b(on|taking|take|took|stopped|stop|quit|started|start|skipping|skip|skipped|missed|"
                        r"cut|halved|using|tried|with|off) it\b")
_IT_SUBJECT = re.compile(r"(?i)^it (made|makes|gives|gave|helps|helped|works|worked|was making|is making|"
                         r"does|did|causes|caused)\b")


def _you_to_they(text: str, pronouns: str = "they") -> str:
    subj, _, poss, refl, _ = PRONOUNS[pronouns]
    text = re.sub(r"(?i)\byourself\b", refl, text)
    text = re.sub(r"(?i)\byour\b", poss, text)
    return re.sub(r"(?i)\byou\b", subj, text)


_AFFIRM = re.compile(r"(?i)^(?:yes|yeah|yep|yup|i do|i have|sometimes|a little|a bit)\b[,.]?(?:\s*(?:i do|i have|"
                     r"sometimes|a little|a bit))?\.?$")


def answer_reported(question: str, answer: str, noun: str, therapist: str = "therapist",
                    pronouns: str = "they") -> str:
    """A short answer read with its question: a denial ("Client denies thoughts of hurting themselves.")
    or the question followed by what the client says ("Were you ...? Client says they missed group.")."""
    obj = _YES_NO_OBJECT.match(question.strip().rstrip("?"))
    if obj and _DENIAL.match(answer.strip()):
        said = answer.strip().rstrip(".")
        quote = f" (\"{said}\")" if len(said.split()) > 1 else ""  # the answer's own words are kept
        return f"{noun} denies {_you_to_they(obj.group('obj'), pronouns)}{quote}."
    if obj and _AFFIRM.match(answer.strip()):
        said = answer.strip().rstrip(".")
        quote = f" (\"{said}\")" if said.lower() not in ("yes", "yeah", "yep", "yup") else ""
        return f"{noun} endorses {_you_to_they(obj.group('obj'), pronouns)}{quote}."
    said = answer.strip().rstrip(".")
    m = re.match(r"(?i)^(no|nope|yes|yeah|yep)\b[,.;:!]*\s*", said)
    lead = ""
    if m:
        lead = "no" if m.group(1).lower() in ("no", "nope") else "yes"
        said = said[m.end():]
    clause = _lower_first(_client_clause(said, therapist, pronouns)) if said else ""
    body = ", ".join(x for x in (lead, clause) if x)
    return f"{_you_to_they(question.strip().rstrip('?'), pronouns)}? {noun} says {body}."


def drug_for_it(text: str, context: list[str], medications) -> str | None:
    """The medication an orphan "it" in ``text`` stands for: the latest one named in ``context``
    (earlier sentences, newest last) when ``text`` names none and "it" is taken, stopped, started…"""
    if not (_IT_OBJECT.search(text) or _IT_SUBJECT.search(text)):
        return None
    if any(medications(w) for w in re.findall(r"[A-Za-z]+", text)):
        return None
    for sentence in reversed(context):
        names = [w for w in re.findall(r"[A-Za-z]+", sentence) if medications(w)]
        if names:
            return names[-1].lower()
    return None


def name_the_drug(text: str, drug: str) -> str:
    """``text`` with its orphan "it" replaced by ``drug`` ("I've been on it" -> "I've been on sertraline")."""
    out = _IT_OBJECT.sub(lambda m: f"{m.group(1)} {drug}", text, count=1)
    if out == text:
        out = re.sub(r"(?i)^it\b", drug[:1].upper() + drug[1:], text, count=1)
    return out
