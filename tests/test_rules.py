"""The rules baseline on the seed article and on tricky sentences."""

from __future__ import annotations

import pytest

from conftest import SEED
from quoteattr.data.readers import read_txt
from quoteattr.data.schema import Article


def predict(rules, text: str) -> list[tuple[str, str, str | None, str | None, str | None]]:
    [article] = rules.predict([Article("t", text)])
    out = []
    for quote in article.quotes:
        content = " | ".join(text[s:e] for s, e in quote.spans)
        cue = text[quote.cue[0] : quote.cue[1]] if quote.cue else None
        speaker = text[quote.speaker[0] : quote.speaker[1]] if quote.speaker else None
        out.append((quote.type, content, cue, speaker, quote.speaker_entity))
    return out


def test_every_direct_quote_of_the_seed_has_the_right_speaker(rules, gold):
    seed_gold = next(a for a in gold.articles if a.id == SEED.stem)
    [predicted] = rules.predict([read_txt(SEED)])
    gold_direct = [q for q in seed_gold.quotes if q.type == "direct"]
    assert len(gold_direct) == 5
    for quote in gold_direct:
        match = [p for p in predicted.quotes if p.spans == quote.spans]
        assert match, f"missed {predicted.text[quote.start : quote.end]!r}"
        assert match[0].speaker_entity == quote.speaker_entity


def test_seed_scare_quotes_are_not_quotes(rules):
    [predicted] = rules.predict([read_txt(SEED)])
    contents = [predicted.text[q.start : q.end] for q in predicted.quotes]
    assert '"moderate"' not in contents
    assert not any(c.startswith('"mistake') for c in contents)


def test_speaker_before_and_after_and_pronoun_chain(rules):
    text = (
        'Mayor Ana Ruiz said: "The bridge opens in May."\n\n'
        '"We are on budget," she added.\n\n'
        '"It is a disgrace," said council member Tom Baker. He said that the costs had doubled.'
    )
    found = predict(rules, text)
    assert ("direct", '"The bridge opens in May."', "said", "Mayor Ana Ruiz", "Ana Ruiz") in found
    assert ("direct", '"We are on budget,"', "added", "she", "Ana Ruiz") in found
    assert ("direct", '"It is a disgrace,"', "said", "council member Tom Baker", "Tom Baker") in found
    assert ("indirect", "that the costs had doubled", "said", "He", "Tom Baker") in found


def test_namesakes_with_different_first_names_are_different_speakers(rules):
    text = (
        "Hillary Clinton said on Monday that the plan would work.\n\n"
        "Bill Clinton said on Tuesday that it would not.\n\n"
        '"We will see," Clinton said.'
    )
    entities = [entity for *_, entity in predict(rules, text)]
    assert entities == ["Hillary Clinton", "Bill Clinton", "Hillary Clinton"]  # a bare surname: the first named


def test_according_to_and_organisation_speaker(rules):
    text = (
        "According to the World Health Organization, cases fell by half last year.\n\n"
        "The company said it would appeal the ruling."
    )
    found = predict(rules, text)
    assert (
        "indirect",
        "cases fell by half last year",
        "According to",
        "the World Health Organization",
        "World Health Organization",
    ) in found
    assert [f for f in found if f[1] == "it would appeal the ruling"][0][2:4] == ("said", "The company")


def test_mixed_quote_takes_the_clause(rules):
    text = 'Officials said the storm had been "the worst in fifty years" for the region.'
    [(quote_type, content, cue, speaker, _)] = predict(rules, text)
    assert quote_type == "mixed" and cue == "said" and speaker == "Officials"
    assert content == 'the storm had been "the worst in fifty years" for the region'


def test_multi_paragraph_quote_is_one_quote(rules):
    text = (
        'The coach spoke after the game. He said:\n\n"We played badly in the first half.\n\n'
        '"In the second half we found our rhythm and never let go."'
    )
    found = predict(rules, text)
    direct = [f for f in found if f[0] == "direct"]
    assert len(direct) == 1
    assert direct[0][1].startswith('"We played badly') and direct[0][1].endswith('never let go."')


def test_nested_single_quotes_stay_inside(rules):
    text = "\"He told me, 'Never again,' and walked out,\" said Lena Ortiz, a neighbour."
    [(quote_type, content, cue, speaker, entity)] = predict(rules, text)
    assert quote_type == "direct" and content.startswith('"He told me,') and entity == "Lena Ortiz"


def test_two_apostrophe_quotation_marks_make_direct_quotes(rules):
    text = "''He told me, 'Never again,' and walked out,'' said Lena Ortiz, a neighbour."
    [(quote_type, content, cue, speaker, entity)] = predict(rules, text)
    assert (
        quote_type == "direct"
        and content == "''He told me, 'Never again,' and walked out,''"
        and entity == "Lena Ortiz"
    )


@pytest.mark.parametrize(
    "text",
    [
        'The so-called "moderate" rebels held the town.',
        'She starred in "Gone Girl" last year and won praise.',
    ],
)
def test_scare_quotes_and_titles_are_not_quotes(rules, text):
    assert predict(rules, text) == []


def test_headline_attribution(rules):
    text = "Strike to go ahead on Friday: Union\n\nRail workers will strike on Friday after talks failed this week."
    found = predict(rules, text)
    assert found[0][:4] == ("indirect", "Strike to go ahead on Friday", None, "Union")


def test_a_titled_name_the_recogniser_missed_stays_a_person_for_the_pronoun_after_it(rules):
    from quoteattr.systems.speakers import SpeakerResolver

    doc = rules.nlp("Attorney General Sessions said the plan works. He said it again.")
    doc.ents = []  # the recogniser missed the name: only the parse and the titles say who it is
    resolver = SpeakerResolver(doc)
    sessions, he = doc[2], doc[8]
    assert resolver.resolve(sessions, (doc[0].idx, sessions.idx + len(sessions.text))) == "Sessions"
    assert resolver.resolve(he, (he.idx, he.idx + 2)) == "Sessions"
