"""Resolve speaker mentions ("he", "the spokesman", "Konashenkov") to canonical named entities."""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc, Token

from quoteattr.data.schema import Entity, Span
from quoteattr.systems.mention_resolver import TITLES, given_names

NAMED_LABELS = ("PERSON", "ORG", "GPE", "NORP")
PRONOUN_GENDER = {"he": "m", "him": "m", "his": "m", "she": "f", "her": "f", "hers": "f"}
GROUP_PRONOUNS = {"they", "them", "it", "we"}
HONORIFICS = {"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.", "sen", "sen.", "rep", "rep.", "gov", "gov."}
CONTAINER_NOUNS = {
    "estimate",
    "report",
    "statement",
    "study",
    "survey",
    "analysis",
    "data",
    "poll",
    "figures",
    "tally",
    "count",
    "spokesman",
    "spokeswoman",
    "spokesperson",
}


@dataclass
class _Cluster:
    name: str
    label: str
    mentions: list[Span] = field(default_factory=list)
    words: set[str] = field(default_factory=set)
    gender: str | None = None
    last_seen: int = -1


def _name_key(text: str, label: str) -> str:
    words = [w for w in text.replace("’s", "").replace("'s", "").split() if w.lower() not in HONORIFICS]
    if not words:
        return text.lower()
    if label == "PERSON":
        return words[-1].lower()
    return " ".join(w.lower() for w in words if w.lower() != "the")


def _canonical(text: str) -> str:
    text = text.replace("’s", "").replace("'s", "").strip()
    return text[4:] if text.lower().startswith("the ") else text


class SpeakerResolver:
    """Named mentions cluster by surname unless their given names share no word (people) or by name (organisations);
    pronouns take the most recent compatible speaker; definite descriptions take the entity whose appositions share
    their words."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.clusters: dict[str, _Cluster] = {}
        self.by_token: dict[int, _Cluster] = {}
        self.speaker_history: list[_Cluster] = []
        self.resolved: dict[int, str | None] = {}
        for ent in doc.ents:
            if ent.label_ not in NAMED_LABELS:
                continue
            name = _canonical(ent.text)
            key = self._namesake_key(_name_key(ent.text, ent.label_), name, ent.label_)
            cluster = self.clusters.get(key)
            if cluster is None:
                cluster = self.clusters[key] = _Cluster(name=name, label=ent.label_)
            elif len(name.split()) > len(cluster.name.split()):
                cluster.name = name
            cluster.mentions.append((ent.start_char, ent.end_char))
            for token in ent:
                self.by_token[token.i] = cluster
            cluster.words.update(_description_words(ent.root))

    def resolve(self, head: Token, mention: Span) -> str | None:
        """Canonical entity name for a speaker mention headed by ``head``, or None when unknown;
        a mention shared by two quotes ("X said ..., adding that ...") resolves once."""
        if head.i not in self.resolved:
            self.resolved[head.i] = self._resolve(head, mention)
        return self.resolved[head.i]

    def _resolve(self, head: Token, mention: Span) -> str | None:
        cluster = self.by_token.get(head.i)
        lower = head.lower_
        if cluster is None and lower in PRONOUN_GENDER:
            cluster = self._recent_person(head.idx, PRONOUN_GENDER[lower])
            if cluster is not None and cluster.gender is None:
                cluster.gender = PRONOUN_GENDER[lower]
        elif cluster is None and lower in GROUP_PRONOUNS:
            cluster = self._recent(head.idx, ("ORG", "GPE", "NORP"))
        elif cluster is None and head.pos_ == "NOUN":
            cluster = self._named_apposition(head) or self._by_description(head, mention)
        elif cluster is None and head.pos_ == "PROPN":
            cluster = self._unlabelled_name(head)
        if cluster is None:
            return None
        cluster.last_seen = head.idx
        self.speaker_history.append(cluster)
        return cluster.name

    def _named_apposition(self, head: Token) -> _Cluster | None:
        """'the mayor, Ann Lee' → the entity its apposition names."""
        for child in head.children:
            if child.dep_ == "appos":
                if child.i in self.by_token:
                    return self.by_token[child.i]
                if child.pos_ == "PROPN":
                    return self._unlabelled_name(child)
        return None

    def _unlabelled_name(self, head: Token) -> _Cluster:
        """A proper name the NER missed ("Mayor Ana Ruiz"): its name tokens without leading titles."""
        tokens = sorted(
            [head] + [c for c in head.children if c.dep_ in ("compound", "flat") and c.pos_ == "PROPN"],
            key=lambda t: t.i,
        )
        titled = False
        while len(tokens) > 1 and tokens[0].lower_.rstrip(".") in TITLES:
            tokens, titled = tokens[1:], True
        name = " ".join(t.text for t in tokens)
        label = "PERSON" if len(tokens) > 1 or titled else "ORG"  # "Ana Ruiz", "Attorney General Sessions"; "Union"
        key = self._namesake_key(_name_key(name, label), name, label)
        cluster = self.clusters.get(key)
        if cluster is None:
            cluster = self.clusters[key] = _Cluster(name=name, label=label)
        for token in tokens:
            self.by_token[token.i] = cluster
        cluster.mentions.append((tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)))
        return cluster

    def _namesake_key(self, key: str, name: str, label: str) -> str:
        """A person's cluster key: the surname, or the surname and given names where the surname's cluster is someone
        whose given names share no word with these ("Bill Clinton" after "Hillary Clinton"; "Chancellor Angela
        Merkel" is "Angela Merkel"); a name without a given name stays with the surname's."""
        cluster = self.clusters.get(key)
        given, known = given_names(name), given_names(cluster.name) if cluster else set()
        if label != "PERSON" or not given or not known or given & known:
            return key
        return f"{key} {' '.join(sorted(given))}"

    def add_mention(self, name: str, span: Span) -> None:
        for cluster in self.clusters.values():
            if cluster.name == name and span not in cluster.mentions:
                cluster.mentions.append(span)

    def entities(self) -> list[Entity]:
        """Every entity that speaks, with all its mentions."""
        spoken = {id(c): c for c in self.speaker_history}
        entities = [Entity(c.name, sorted(set(c.mentions))) for c in spoken.values()]
        return sorted(entities, key=lambda e: e.mentions[0])

    def _recent(self, before: int, labels: tuple[str, ...], gender: str | None = None) -> _Cluster | None:
        for cluster in reversed(self.speaker_history):
            if cluster.label in labels and cluster.last_seen < before and gender in (None, cluster.gender or gender):
                return cluster
        candidates = [
            (max(m[0] for m in c.mentions if m[0] < before), c)
            for c in self.clusters.values()
            if c.label in labels and any(m[0] < before for m in c.mentions) and gender in (None, c.gender or gender)
        ]
        return max(candidates, key=lambda pair: pair[0])[1] if candidates else None

    def _recent_person(self, before: int, gender: str) -> _Cluster | None:
        return self._recent(before, ("PERSON",), gender)

    def _by_description(self, head: Token, mention: Span) -> _Cluster | None:
        """'the Russian major general' → the entity described earlier with those words; 'an estimate by X' → X."""
        inner = [
            self.by_token[t.i]
            for t in head.subtree
            if t.i in self.by_token and self.by_token[t.i].label in ("PERSON", "ORG")
        ]
        if head.lemma_.lower() in CONTAINER_NOUNS and inner:
            return inner[-1]
        if not any(child.lower_ == "the" for child in head.children):
            return None
        words = {t.lemma_.lower() for t in head.subtree if t.is_alpha and not t.is_stop}
        best: tuple[int, int, _Cluster] | None = None
        for cluster in self.clusters.values():
            if cluster.label != "PERSON" and head.lemma_.lower() not in cluster.words:
                continue
            first = min(m[0] for m in cluster.mentions)
            if first >= mention[0] or head.lemma_.lower() not in cluster.words:
                continue
            score = len(words & cluster.words)
            recency = max(m[0] for m in cluster.mentions if m[0] < mention[0])
            if best is None or (score, recency) > best[:2]:
                best = (score, recency, cluster)
        return best[2] if best else None


def _description_words(root: Token) -> set[str]:
    """Lemmas of the titles and appositions around a named mention ("Major General", "the spokesman")."""
    words: set[str] = set()
    anchor = root
    while anchor.dep_ in ("compound", "flat") and anchor.head is not anchor:
        anchor = anchor.head
    related = [anchor] + [c for c in anchor.children if c.dep_ in ("appos", "compound", "amod", "nmod")]
    if anchor.dep_ == "appos":
        related.append(anchor.head)
    for token in related:
        for t in token.subtree:
            if t.is_alpha and not t.is_stop:
                words.add(t.lemma_.lower())
    return words
