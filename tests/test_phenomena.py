"""The attribution phenomena the dataset card counts, on small hand-made articles: each phenomenon counted
once where it shows, and its look-alikes (an apostrophe, a scare quote inside a quote) not counted."""

from __future__ import annotations

from conftest import at
from quoteattr.data.schema import Article, Quote, entities_from_quotes, validate_article
from quoteattr.dataset.phenomena import PHENOMENA, count_phenomena, curly_single_marks, names_entity


def article(text: str, quotes: list[Quote]) -> Article:
    made = Article("a", text, quotes=quotes, entities=entities_from_quotes(quotes))
    validate_article(made)
    return made


def expected(**counts: int) -> dict[str, int]:
    return {key: counts.get(key, 0) for key in PHENOMENA}


def test_speaker_mentions_pronoun_description_and_apposition():
    text = (
        "Harbour to be dredged\n\nMayor Ana Ruiz opened the port on Monday. She said the dredging would start "
        "in May. The ministry said it would pay. She added that the port would reopen. The port's harbour "
        "master, Ines Albuquerque, said the channel was too shallow."
    )
    first_she, second_she = at(text, "She"), at(text, "She", text.index("She added"))
    ministry = at(text, "The ministry")
    apposition = at(text, "The port's harbour master, Ines Albuquerque")
    quotes = [
        Quote([at(text, "the dredging would start in May")], "indirect", at(text, "said"), first_she, "Ana Ruiz"),
        Quote([at(text, "it would pay")], "indirect", at(text, "said", ministry[1]), ministry, "Defence Ministry"),
        Quote([at(text, "the port would reopen")], "indirect", at(text, "added"), second_she, "Ana Ruiz"),
        Quote(
            [at(text, "the channel was")], "indirect", at(text, "said", apposition[1]), apposition, "Ines Albuquerque"
        ),
    ]
    # the first "She" was named (Mayor Ana Ruiz) but never quoted before; the second was quoted just before
    assert count_phenomena([article(text, quotes)]) == expected(
        pronoun_speaker=2, pronoun_speaker_named_only_as_non_speaker=1, description_speaker=1, apposition_speaker=1
    )


def test_quote_shapes_and_marks():
    text = (
        'Port says "we are ready"\n\n'
        '"The channel is deep," Ruiz said, "and the work is done.\n\n'
        '"Ships will come back."\n\n'
        "“It is a good day.”\n\n"
        "‘Come and see,’ she said, ‘you won’t regret it.’\n\n"
        "Critics call the plan a «folly». «The cost is too high», said Luc Moreau."
    )
    continued = at(text, '"and the work is done.\n\n"Ships will come back."')
    she = at(text, "she")
    angle = at(text, "«The cost is too high»")
    quotes = [
        Quote([at(text, '"we are ready"')], "direct", at(text, "says"), at(text, "Port"), "Port"),
        Quote(
            [at(text, '"The channel is deep,"'), continued], "direct", at(text, "said"), at(text, "Ruiz"), "Ana Ruiz"
        ),
        Quote([at(text, "“It is a good day.”")], "direct", speaker_entity="Ana Ruiz"),
        Quote(
            [at(text, "‘Come and see,’"), at(text, "‘you won’t regret it.’")],
            "direct",
            at(text, "said", she[1]),
            she,
            "Ana Ruiz",
        ),
        Quote([angle], "direct", at(text, "said", angle[1]), at(text, "Luc Moreau"), "Luc Moreau"),
    ]
    assert count_phenomena([article(text, quotes)]) == expected(
        pronoun_speaker=1,
        no_speaker_mention=1,
        no_cue=1,
        interrupted=2,
        over_paragraphs=1,
        headline=1,
        marks_straight=2,
        marks_curly_double=1,
        marks_curly_single=1,
        marks_angle=1,
        unquoted_quotation_marks=1,  # «folly»
    )


def test_look_alikes_are_not_counted():
    apostrophes = (
        'Strike off\n\nThe players’ union said it won’t strike, and Ruiz said the plan was a "disaster" for the town.'
    )
    quotes = [
        Quote(
            [at(apostrophes, "it won’t strike")],
            "indirect",
            at(apostrophes, "said"),
            at(apostrophes, "The players’ union"),
            "Players’ Union",
        ),
        Quote(
            [at(apostrophes, 'the plan was a "disaster" for the town')],
            "mixed",
            at(apostrophes, "said", apostrophes.index("Ruiz")),
            at(apostrophes, "Ruiz"),
            "Ana Ruiz",
        ),
    ]
    # a lower-case "players" does not name the Players’ Union; the scare quote lies inside the second quote
    assert count_phenomena([article(apostrophes, quotes)]) == expected(description_speaker=1, marks_straight=1)
    one_line = 'Ruiz said "yes."'
    quote = Quote([at(one_line, '"yes."')], "direct", at(one_line, "said"), at(one_line, "Ruiz"), "Ana Ruiz")
    assert count_phenomena([article(one_line, [quote])]) == expected(marks_straight=1)  # no line break, no headline


def test_counts_add_up_over_articles():
    text = 'Ruiz said "yes."\n\nIt was "late".'
    quote = Quote([at(text, '"yes."')], "direct", at(text, "said"), at(text, "Ruiz"), "Ana Ruiz")
    counts = count_phenomena([article(text, [quote]), article(text, [quote]), article(text, [])])
    assert list(counts) == list(PHENOMENA)
    assert counts == expected(headline=2, marks_straight=2, unquoted_quotation_marks=4)  # "late" thrice, "yes." once


def test_curly_single_marks_and_names():
    text = "‘Rock’n’roll,’ she said of the players’ union.\n‘Open"
    assert [text[p] + str(p) for p in sorted(curly_single_marks(text))] == ["‘0", "’13", "‘47"]
    assert names_entity("Ms Lin", "Lin Pei-shan") and names_entity("the Hawks", "Harbor City Hawks")
    assert not names_entity("the ministry", "Defence Ministry") and not names_entity("The paper", "The Guardian")
    assert not names_entity("A spokesman", None)
