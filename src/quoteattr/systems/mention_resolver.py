"""Resolve given speaker mentions to entity names from their text alone (no parse): fast enough for
whole corpora whose mentions are already annotated (PolNeAR sources). Its output is silver.

Names are the last run of capitalised words in a mention ("Trump campaign manager Kellyanne Conway"
→ "Kellyanne Conway"), read in the part of an apposition that holds a name ("Igor Konashenkov, the
ministry's spokesman" → "Igor Konashenkov"); a name that only owns a description ("the Defense
Ministry's spokesman") does not name the speaker; people cluster by surname unless their given names share no
word ("Bill Clinton" is not "Hillary Clinton"), organisations by name. A mention
that names nobody (a pronoun, a description: "she", "the company", "the Russian major general") takes the entity
the learned antecedent scorer (``antecedents``) picks among those named before it, or none, or (a description) a new
entity named by its own words ("the defence ministry" → "Defence Ministry"); generic groups ("Critics", "Police")
are descriptions too.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from quoteattr.data.headlines import headline_end
from quoteattr.data.schema import Span, overlaps_any
from quoteattr.systems.antecedents import FEATURES, HEADLINE, Chooser, packaged_choice

PERSON_PRONOUNS = {"he": "m", "she": "f", "him": "m", "her": "f"}
GROUP_PRONOUNS = {"they", "it", "we", "them"}
POSSESSIVE_DETERMINERS = {"his", "her", "its", "their", "our", "my"}
LEADING = {"the", "a", "an", "former", "then"} | POSSESSIVE_DETERMINERS
ORG_WORDS = {
    "times",
    "post",
    "news",
    "journal",
    "press",
    "department",
    "party",
    "campaign",
    "committee",
    "house",
    "service",
    "agency",
    "association",
    "foundation",
    "institute",
    "university",
    "college",
    "council",
    "court",
    "congress",
    "senate",
    "administration",
    "government",
    "ministry",
    "office",
    "bureau",
    "commission",
    "network",
    "group",
    "center",
    "centre",
    "inc",
    "corp",
    "company",
    "bank",
    "fund",
    "police",
    "army",
    "staff",
    "team",
    "organization",
    "organisation",
    "union",
    "board",
    "poll",
    "cnn",
    "fbi",
    "cia",
    "nato",
    "gop",
    "un",
    "ap",
    "reuters",
    "nbc",
    "abc",
    "cbs",
    "msnbc",
    "politico",
}
TITLES = {
    "mr",
    "mrs",
    "ms",
    "miss",
    "chancellor",
    "lady",
    "dr",
    "sen",
    "rep",
    "gov",
    "gen",
    "lt",
    "col",
    "sgt",
    "president",
    "senator",
    "governor",
    "secretary",
    "mayor",
    "speaker",
    "chairman",
    "chairwoman",
    "director",
    "judge",
    "general",
    "vice",
    "candidate",
    "nominee",
    "former",
    "democrat",
    "republican",
    "gop",
    "major",
    "maj",
    "captain",
    "capt",
    "lieutenant",
    "colonel",
    "sergeant",
    "admiral",
    "adm",
    "commander",
    "cmdr",
    "chief",
    "prime",
    "minister",
    "ambassador",
    "envoy",
    "professor",
    "prof",
    "rev",
    "justice",
    "attorney",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "deputy",
    "commissioner",
    "sheriff",
    "councilman",
    "councillor",
    "councilor",
    "councilwoman",
    "coach",
    "bishop",
    "pope",
    "king",
    "queen",
    "prince",
}
"""Words of a title or an honorific before a person's name ("Chancellor Angela Merkel", "Mr. Corker")."""
GENERIC_GROUPS = {
    "critics",
    "officials",
    "analysts",
    "experts",
    "residents",
    "witnesses",
    "observers",
    "sources",
    "authorities",
    "police",
    "protesters",
    "supporters",
    "opponents",
    "investigators",
    "researchers",
    "scientists",
    "doctors",
    "prosecutors",
    "lawyers",
    "officers",
    "aides",
    "advisers",
    "advisors",
    "economists",
    "voters",
    "others",
    "some",
    "many",
    "most",
    "both",
    "people",
    "polls",
    "surveys",
    "reports",
    "studies",
    "documents",
    "records",
}
"""Capitalised only because a sentence starts with them: a group, not a named entity."""
_WORD = re.compile(r"[\w][\w.’'-]*")
_POSSESSIVE = re.compile(r"[’']s$")
NAME_PARTICLES = {
    "de",
    "van",
    "von",
    "der",
    "den",
    "del",
    "della",
    "di",
    "da",
    "du",
    "la",
    "le",
    "al",
    "bin",
    "ibn",
    "dos",
}
"""Lower-case words inside a person's name ("Staffan de Mistura", "Marta van der Berg")."""
_CONNECTORS = NAME_PARTICLES | {"of", "and", "for"}


@dataclass
class _Entity:
    name: str
    kind: str
    gender: str | None = None
    words: set[str] = field(default_factory=set)
    last: int = -1
    first: int = -1
    mentions: int = 0
    spoke: bool = False


def _name_run(words: list[str]) -> list[str]:
    """The last run of capitalised words (connectors allowed inside), titles stripped."""
    runs: list[list[str]] = []
    current: list[str] = []
    for word in words:
        if word[:1].isupper() or (current and word.lower() in _CONNECTORS):
            current.append(word)
        else:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    if not runs:
        return []
    run = runs[-1]
    while run and run[-1].lower() in _CONNECTORS:
        run = run[:-1]
    while len(run) > 1:
        if run[0].lower().rstrip(".") in TITLES | LEADING:
            run = run[1:]
        elif run[0].lower() in ("of", "for") and len(run) > 3:
            run = run[2:]  # a stripped title's "of X" ("Secretary of State John Kerry")
        else:
            break
    titled = [k for k, word in enumerate(run[:-1]) if word.lower().rstrip(".") in TITLES]
    if titled:
        rest = run[titled[-1] + 1 :]
        if len(rest) > 2 and rest[0].lower() in ("for", "of"):
            rest = rest[2:]  # "Envoy for Syria Staffan de Mistura": the title's own "for X"
        if rest and not any(w.lower().strip(".") in ORG_WORDS for w in rest):
            run = rest  # the name after a title inside the run ("UN Special Envoy … Staffan de Mistura")
    return run


def _naming_words(mention: str) -> list[str]:
    """The words of the part of a mention that names its speaker: in an apposition ("X, the Y's
    spokesman", "the spokesman, X") the comma-separated part with a name; a name that owns the
    description after it ("the ministry's spokesman") names someone else, so it does not count."""
    parts = [_WORD.findall(part) for part in mention.split(",")]
    for words in parts:
        while words and words[0].lower() in LEADING:
            words.pop(0)
        words = _before_affiliation(words)
        run = _name_run(words)
        after = words[words.index(run[-1]) + 1 :] if run else []
        owner = bool(run) and bool(_POSSESSIVE.search(run[-1])) and bool(after)
        modifier = bool(after) and after[-1][:1].islower() and not any(w.lower() in ORG_WORDS for w in after)
        if run and not owner and not modifier and not (len(run) == 1 and run[0].lower() in GENERIC_GROUPS):
            return words
    return []


AFFILIATION = {"of", "at", "from", "with"}


def _before_affiliation(words: list[str]) -> list[str]:
    """The words before "of/at/from/with the Organisation" when they end in a person's name of two words or more
    ("economist Ravi Menon of the Harlow Institution" → "economist Ravi Menon"): not after a title, an office or
    an organisation's words ("Secretary of State John Kerry", "Head of the IMF …", "Bank of America")."""
    for index, word in enumerate(words[1:], start=1):
        if word.lower() not in AFFILIATION or not any(w[:1].isupper() for w in words[index + 1 :]):
            continue
        run = _name_run(words[:index])
        if (
            len(run) >= 2  # a name, not a lone title or office ("Head of the IMF", "the Duke of Edinburgh")
            and run[-1] == words[index - 1]
            and not any(w.lower().strip(".") in TITLES | ORG_WORDS for w in run)
            and run[-1].lower() not in GENERIC_GROUPS
        ):
            return words[:index]
    return words


DEFINITE = {"the", "this", "that", "these", "those"} | POSSESSIVE_DETERMINERS
"""Words that make a description definite, as an owner's possessive does ("Westford's highways department")."""
DESCRIPTION_STOPWORDS = LEADING | {"of", "for", "and", "in", "on", "at", "to", "by", "s"}
WORDS_BEFORE = 2
"""Words just before a mention that count as seen with its entity (a title outside the name: 'Judge Ana Ruiz')."""


def resolve_mentions(
    text: str,
    mentions: list[Span],
    context: Callable[[], list[tuple[Span, str]]] | None = None,
    chooser: Chooser = packaged_choice,
) -> list[tuple[str | None, str]]:
    """(entity name or None, method) for each mention, processed in text order. A mention that names nobody (a
    pronoun, a description) takes the entity ``chooser`` picks among those named before it (the learned antecedent
    scorer by default); a description in the headline ("…, commission says") is resolved last, among the entities
    named after it. ``context`` gives the other people and organisations the article names ((span, "person" or
    "org"), e.g. ``named_mentions``): candidates too, speaker or not, when a pronoun or a description needs them (a
    speaker's name may join one of them, so other articles resolve their names alone); a person it names inside a
    longer name run is that name without the words before it (``_recognised``), and a mention cut short in a name's
    particle is read to the end of the recognised name (``_through_name``). It is asked for only for those: a pronoun,
    a description, a name run of more than two words, or a mention that ends in a name's particle ("… Staffan de").
    Right after a person's title, a recognised organisation is a person (``_titled_person``)."""
    entities: dict[str, _Entity] = {}
    results: dict[int, tuple[_Entity | None, str]] = {}
    cut_short = context is not None and any(_ends_in_particle(text, span) for span in mentions)
    named = context() if cut_short else None
    readings = [_through_name(text, span, named) if named else span for span in mentions]  # "… Staffan de Mistura"
    kinds = [mention_kind(text[start:end]) for start, end in readings]
    in_headline = _headline_mentions(text, mentions, kinds)
    events: list[tuple[Span, int | None, str | None]] = [(span, index, None) for index, span in enumerate(mentions)]
    antecedents_needed = any(kind != "name" for kind in kinds)  # a headline's mentions are descriptions
    runs = {i: _name_run(_naming_words(text[s:e])) for i, (s, e) in enumerate(readings) if kinds[i] == "name"}
    long_names = any(len(run) > 2 for run in runs.values())
    if named is None:
        named = context() if context is not None and (antecedents_needed or long_names) else []
    named = [(span, _titled_person(text, span) or kind) for span, kind in named]
    if antecedents_needed:
        events += [(span, None, kind) for span, kind in named if not overlaps_any(span, mentions)]
    people = [span for span, kind in named if kind == "person"]
    latest_speaker: _Entity | None = None
    in_order = sorted(events, key=lambda event: (event[1] in in_headline, event[0]))  # as in resolution_order
    for span, index, kind in in_order:
        mention = text[span[0] : span[1]]
        if index is None:  # a name no quote is linked to: only an antecedent, never a speaker's name
            found = _named(mention, entities, kind, _gender_before(text, span[0]), grow=False)
            _seen(found, text, span, spoke=False)
            continue
        if kinds[index] == "name":
            found, method = _named(_recognised(text, readings[index], runs[index], people), entities), "name"
        else:
            headline = index in in_headline
            speaker = None if headline else latest_speaker
            found = _antecedent(mention, kinds[index], span, entities, speaker, chooser, headline)
            method = "pronoun" if kinds[index] != "description" else "description" if found else "unresolved"
        _seen(found, text, span, spoke=True)
        latest_speaker = found or latest_speaker
        results[index] = (found, method)
    # names may have grown ("Clinton" → "Hillary Clinton") after a mention was resolved
    return [(entity.name if entity else None, method) for entity, method in (results[i] for i in range(len(mentions)))]


def _ends_in_particle(text: str, span: Span) -> bool:
    """Whether a mention's last word is a name's particle ("… Staffan de"): the tagger cut a name short."""
    return bool(set(_WORD.findall(text[span[0] : span[1]])[-1:]) & NAME_PARTICLES)


def _through_name(text: str, span: Span, named: list[tuple[Span, str]]) -> Span:
    """A mention cut short in a name's particle read to the end of the recognised name it ends inside ("… Staffan de"
    of "Syria Staffan de Mistura", whatever the recogniser calls it); else the mention as it is."""
    if _ends_in_particle(text, span):
        for (start, end), _ in named:
            if span[0] <= start < span[1] < end and _WORD.search(text, span[1], end):
                return (span[0], span[1] + len(text[span[1] : end].rstrip(".,;: ")))  # "Bill de Blasio.": no stop
    return span


MODIFYING_TITLES = {"former", "major", "general", "vice", "prime", "chief", "deputy", "democrat", "republican", "gop"}
"""Words of ``TITLES`` that may modify an organisation's name too ("a former Goldman Sachs banker", "Major League
Baseball", "General Motors Europe", "Republican National Convention"): no title on their own."""
_WORD_BEFORE = re.compile(r"([\w.]+)\s+$")
ABBREVIATION = 5
"""The longest title written with a full stop ("Capt.", "Prof."): a longer word before a full stop ends a sentence."""


def _titled_person(text: str, span: Span) -> str | None:
    """The kind "person" for a recognised name of two words or more right after a person's title, inside it or just
    before it ("Councillor Ines Okoro", "coach Petra Lindqvist", "Dr. Amara Osei"), which the entity recogniser may
    call an organisation; None (its own label stands) when no title comes right before the name, when the name has an
    organisation's word or a word in capitals, or when it follows the title's "of" ("Bishop of Wexham")."""
    words = _WORD.findall(text[span[0] : span[1]])
    before = _WORD_BEFORE.search(text, max(0, span[0] - 20), span[0])
    if before and (not before.group(1).endswith(".") or len(before.group(1)) <= ABBREVIATION):
        words.insert(0, before.group(1))
    titled = [k for k, word in enumerate(words) if _person_title(word)]
    name = words[titled[-1] + 1 :] if titled else []
    capitalised = all((w[:1].isupper() and not w.isupper()) or w in NAME_PARTICLES for w in name)
    named = len(name) >= 2 and name[0][:1].isupper() and capitalised
    return "person" if named and not any(w.lower().strip(".") in ORG_WORDS for w in name) else None


def _person_title(word: str) -> bool:
    """Whether ``word`` is a person's title (``TITLES``, not ``MODIFYING_TITLES``), in any case."""
    bare = word.lower().rstrip(".")
    return bare in TITLES and bare not in MODIFYING_TITLES


def _recognised(text: str, span: Span, run: list[str], people: list[Span]) -> str:
    """A name mention as the person named inside it (spaCy's entity) when that name is the end of the mention's name
    ``run``, two words or more, and the run has capitalised words before it: a title or role the list of titles lacks
    ("Passenger Raj Mehta", "Detective Inspector Paolo Ferreira"), not another name joined by a connector ("Obama and
    Hillary Clinton"); else the mention itself."""
    for start, end in people:
        words = _WORD.findall(text[start:end])
        before = run[: len(run) - len(words)]
        if span[0] <= start and end <= span[1] and len(words) >= 2 and run[len(before) :] == words:
            if before and all(w[:1].isupper() for w in before):
                return text[start:end]
    return text[span[0] : span[1]]


def mention_kind(mention: str) -> str:
    """The kind of a mention: "name" when it names its speaker, else one of ``MENTION_KINDS``."""
    words = [w.lower() for w in _WORD.findall(mention)]
    if len(words) == 1 and words[0] in PERSON_PRONOUNS:
        return "person_pronoun"
    if len(words) == 1 and words[0] in GROUP_PRONOUNS:
        return "group_pronoun"
    return "name" if _name_run(_naming_words(mention)) else "description"


def _antecedent(
    mention: str,
    kind: str,
    span: Span,
    entities: dict[str, _Entity],
    latest_speaker: _Entity | None,
    chooser: Chooser,
    headline: bool = False,
) -> _Entity | None:
    """The entity ``chooser`` picks for a mention that names nobody, among the entities named before it that agree
    with it (``_agrees``), or, for a description, the new entity it names (its row comes after the candidates'); a
    ``headline``'s mention, among those named after it, with the chooser's ``HEADLINE`` weights."""
    words = [w.lower() for w in _WORD.findall(mention)]
    gender = PERSON_PRONOUNS.get(words[0]) if kind == "person_pronoun" else None
    content = [w for w in (_POSSESSIVE.sub("", w) for w in words) if w]
    content = [_singular(w) for w in content if w not in DESCRIPTION_STOPWORDS]  # as an entity's words are kept
    organisation_head = bool(content) and content[-1] in ORG_WORDS
    head = _head(words) if kind == "description" else ""
    plural = _plural(head)
    group = plural or _singular(head) in ORG_WORDS  # "scientists say", "the company said"
    agreeing = [e for e in entities.values() if e.last >= 0 and _agrees(e, kind, words, gender, group)]
    if headline:  # a cataphor: the entities named after it, the first named the nearest
        candidates = sorted((e for e in agreeing if e.first > span[0]), key=lambda e: e.first)
    else:
        candidates = sorted(agreeing, key=lambda e: -e.last)
    rows = []
    for rank, entity in enumerate(candidates):
        shared = sum(w in entity.words for w in content)
        rows.append(
            {
                "person": float(entity.kind == "person"),
                "gender_match": float(gender is not None and entity.gender == gender),
                "head_match": float(kind == "description" and bool(content) and content[-1] in entity.words),
                "word_overlap": shared / len(content) if kind == "description" and content else 0.0,
                "unseen_words": float(len(content) - shared) if kind == "description" else 0.0,
                "organisation_word": float(organisation_head and entity.kind == "org"),
                "recency": math.log1p(rank),
                "distance": math.log1p(abs(span[0] - (entity.first if headline else entity.last)) / 100),
                "spoke": float(entity.spoke),
                "latest_speaker": float(entity is latest_speaker),
                "mentions": math.log1p(entity.mentions),
                "content_words": float(len(content)),
                "plural": float(plural),
                "new_entity": 0.0,
                "new_organisation": 0.0,
                "new_modified": 0.0,
                "new_definite": 0.0,
            }
        )
    names = [entity.name for entity in candidates]
    new_name = _own_name(_WORD.findall(mention)) if kind == "description" and content else None
    if new_name:
        names.append(new_name)
        rows.append(
            {
                **dict.fromkeys(FEATURES, 0.0),
                "new_entity": 1.0,
                "new_organisation": float(organisation_head),
                "new_modified": float(len(content) > 1),
                "new_definite": float(words[0] in DEFINITE or bool(_POSSESSIVE.search(words[0]))),
                "content_words": float(len(content)),
                "plural": float(plural),
            }
        )
    chosen = chooser(HEADLINE if headline else kind, names, rows)
    if chosen is not None and chosen == len(candidates):
        return entities.setdefault(new_name.lower(), _Entity(new_name, "org"))
    found = None if chosen is None else candidates[chosen]
    if found is not None and gender is not None and found.kind == "person" and found.gender is None:
        found.gender = gender
    return found


def _singular(word: str) -> str:
    """A word as a singular, to compare a description's words with a name's ("the airline": "Skyward Airlines"; "the
    agencies": "agency"); organisation words that end in s stay whole ("news", "times")."""
    word = word.rstrip("'’")
    if word in ORG_WORDS or len(word) <= 3 or not word.endswith("s") or word.endswith("ss"):
        return word
    return word[:-3] + "y" if word.endswith("ies") else word[:-1]


HEAD_ENDS = {"of", "for", "with", "at", "from", "in", "on", "by", "to", "who", "which", "that"}
"""Words after a description's head noun ("a spokesman for the company", "one of the scientists")."""
NOT_PLURAL = {"series", "species"}


def _head(words: list[str]) -> str:
    """A description's head noun: its last word before a preposition or relative pronoun, without a possessive."""
    if not words:
        return ""
    before = list(itertools.takewhile(lambda word: word not in HEAD_ENDS, words)) or words
    return _POSSESSIVE.sub("", before[-1])


def _plural(word: str) -> bool:
    """Whether a word is a plural ("officials", "scientists", "Israelis"; not "news", "campus", "analysis",
    "politics")."""
    bare = word.rstrip("'’")
    return _singular(word) != bare and not bare.endswith(("us", "sis", "ics")) and bare not in NOT_PLURAL


def _own_name(words: list[str]) -> str | None:
    """The name a description gives a new entity: its words without the leading article or owner's possessive,
    capitalised ("the city's water department" → "City Water Department"); None for a description of no word."""
    words = [_POSSESSIVE.sub("", w) for w in words]
    while words and words[0].lower() in LEADING | DEFINITE:
        words = words[1:]
    named = [w if w.lower() in DESCRIPTION_STOPWORDS else w[:1].upper() + w[1:] for w in words if w]
    return " ".join(named) or None


def _agrees(entity: _Entity, kind: str, words: list[str], gender: str | None, group: bool) -> bool:
    """Whether ``entity`` may be what a mention refers to: 'he' and 'she' a person of no other known gender, 'it' an
    organisation, and a ``group`` (a plural or an organisation's word: "officials", "the company") no one person."""
    if kind == "person_pronoun":
        return entity.kind == "person" and entity.gender in (None, gender)
    if group:
        return entity.kind == "org"
    return entity.kind == "org" if words == ["it"] else True  # "they" may be one person


def _named(
    mention: str, entities: dict[str, _Entity], kind: str | None = None, gender: str | None = None, grow: bool = True
) -> _Entity | None:
    """The entity a mention names (created on its first mention; ``kind`` when known, else read off its words;
    with ``grow``, a longer name replaces a shorter one), or None when it names nobody."""
    words = _naming_words(mention)
    run = _name_run(words)
    if not run:
        return None
    after = words[words.index(run[-1]) + 1 :] if run[-1] in words else []
    org_tail = [w for w in after[:1] if w.lower() in ORG_WORDS]
    is_org = (
        kind == "org"
        if kind
        else bool(org_tail)
        or any(w.lower().strip(".") in ORG_WORDS for w in run)
        or (len(run) == 1 and run[0].isupper())
    )
    name = " ".join(run + org_tail).replace("’s", "").replace("'s", "")
    entity = entities.get(name.lower()) if is_org else _same_person(name, entities, gender)
    if entity is None:
        key = name.lower() if is_org else f"{name.lower()}/{len(entities)}"  # people: one key each, namesakes apart
        entity = entities[key] = _Entity(name, "org" if is_org else "person", gender)
    elif grow and len(name.split()) > len(entity.name.split()):
        entity.name = name
    return entity


def _same_person(name: str, entities: dict[str, _Entity], gender: str | None) -> _Entity | None:
    """The person ``name`` refers to among those seen: people cluster by surname, but names whose given names share
    no word are different people ("Bill Clinton" is not "Hillary Clinton"; "George W. Bush" is "George Bush", and
    "Chancellor Angela Merkel" is "Angela Merkel"); a name without a given name is the latest namesake whose known
    gender agrees, a full name the latest with a given name in common, else one known by surname alone."""
    surname, given = name.lower().split()[-1], given_names(name)
    namesakes = [
        (e, given_names(e.name))
        for e in entities.values()
        if e.kind == "person" and e.name.lower().split()[-1] == surname and gender in (None, e.gender or gender)
    ]
    if not given:
        return max((e for e, _ in namesakes), key=lambda e: e.last, default=None)
    sharing = [e for e, known in namesakes if known & given]
    surname_only = [e for e, known in namesakes if not known]
    return max(sharing or surname_only, key=lambda e: e.last, default=None)


def given_names(name: str) -> set[str]:
    """The words of a person's name before the surname, titles and particles left out ("Chancellor Angela Merkel":
    angela; "Marta van der Berg": marta)."""
    return {word.strip(".") for word in name.lower().split()[:-1]} - TITLES - LEADING - NAME_PARTICLES - {""}


def _seen(entity: _Entity | None, text: str, span: Span, spoke: bool) -> None:
    """Note a mention of ``entity``: its words and the few before it (as singulars, ``_singular``), where and whether
    it was a speaker's."""
    if entity is None:
        return
    before = _WORD.findall(text[max(0, span[0] - 40) : span[0]])[-WORDS_BEFORE:]
    words = [*before, *_WORD.findall(text[span[0] : span[1]])]
    entity.words.update(_singular(_POSSESSIVE.sub("", w.lower())) for w in words)
    entity.last, entity.mentions, entity.spoke = span[0], entity.mentions + 1, entity.spoke or spoke
    entity.first = span[0] if entity.first < 0 else entity.first


def _headline_mentions(text: str, mentions: list[Span], kinds: list[str]) -> set[int]:
    """The descriptions inside the headline (``headline_end``; "…, commission says")."""
    end = headline_end(text)
    return {i for i, span in enumerate(mentions) if span[1] <= end and kinds[i] == "description"}


def resolution_order(text: str, mentions: list[Span]) -> list[int]:
    """The indices of ``mentions`` in the order ``resolve_mentions`` resolves them (and asks its chooser): text
    order, the headline's descriptions last."""
    last = _headline_mentions(text, mentions, [mention_kind(text[start:end]) for start, end in mentions])
    return sorted(range(len(mentions)), key=lambda i: (i in last, mentions[i]))


_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss)\.?\s+$")


def _gender_before(text: str, start: int) -> str | None:
    """ "m" or "f" from an honorific just before a name ("Mrs. Okafor"), else None."""
    honorific = _HONORIFIC.search(text[max(0, start - 6) : start])
    return None if honorific is None else ("m" if honorific.group(1) == "Mr" else "f")
