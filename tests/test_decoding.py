"""Decoding the tagger's output into quotes and linking them, on small texts written for each behaviour."""

from __future__ import annotations

import re

import numpy as np

from conftest import valid_bio
from quoteattr.data.schema import Article
from quoteattr.systems.model.assembly import NEAREST_CUE, assemble_article
from quoteattr.systems.model.decoding_config import DecodingConfig
from quoteattr.systems.model.tag_decoding import decode_roles, viterbi_tags
from quoteattr.systems.model.windows import LABEL2ID, LABELS, ArticleTokens, tokenize

PLAIN = DecodingConfig()
"""The defaults: no option that trims or adds candidates; each test turns on the one it is about."""


def word_tokens(text: str) -> ArticleTokens:
    """Words and punctuation as tokens (what a tokenizer would give, near enough), with their paragraphs."""
    offsets = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    return ArticleTokens(list(range(len(offsets))), offsets, [text.count("\n", 0, s) for s, _ in offsets])


def token_span(text: str, tokens: ArticleTokens, phrase: str, occurrence: int = 0) -> tuple[int, int]:
    start = [m.start() for m in re.finditer(re.escape(phrase), text)][occurrence]
    inside = [i for i, (s, e) in enumerate(tokens.offsets) if s >= start and e <= start + len(phrase)]
    return inside[0], inside[-1] + 1


def logits_for(n: int, labelled: dict[tuple[int, int], str]) -> np.ndarray:
    logits = np.zeros((n, len(LABELS)), dtype=np.float32)
    logits[:, LABEL2ID["O"]] = 3.0
    for (start, end), role in labelled.items():
        logits[start, LABEL2ID[f"B-{role}"]] = 5.0
        logits[start + 1 : end, LABEL2ID[f"I-{role}"]] = 5.0
    return logits


def test_viterbi_never_opens_a_span_with_an_inside_tag():
    logits = logits_for(6, {(1, 4): "CONTENT"})
    logits[1] = 0.0
    logits[1, LABEL2ID["I-CONTENT"]], logits[1, LABEL2ID["B-CONTENT"]] = 5.0, 4.5  # argmax: I- with no B-
    assert LABELS[int(logits[1].argmax())] == "I-CONTENT"
    assert [LABELS[t] for t in viterbi_tags(logits)] == ["O", "B-CONTENT", "I-CONTENT", "I-CONTENT", "O", "O"]


def test_decoding_settings_are_applied_over_the_checkpoints():
    text = "Ann said the plan , in short , would fail ."
    tokens = word_tokens(text)
    logits = logits_for(len(tokens.ids), {(2, 4): "CONTENT", (7, 10): "CONTENT", (1, 2): "CUE", (0, 1): "SOURCE"})
    joined = decode_roles(text, tokens, logits, PLAIN.replace(content_gap_tokens=4, min_content_words=1))
    apart = decode_roles(text, tokens, logits, PLAIN.replace(content_gap_tokens=0, min_content_words=1))
    assert joined["CONTENT"] == [(2, 10)] and apart["CONTENT"] == [(2, 4), (7, 10)]


def link_first_quote_only(requests):
    """A chooser that links each window's first quote to its first candidate (with the linker's probability), and
    every quote to the cue nearest its speaker."""
    unlinked = (None, None, NEAREST_CUE)
    return [[(r.candidates[0], 0.75, NEAREST_CUE)] + [unlinked] * (len(r.quotes) - 1) for r in requests]


def assemble(text: str, tokens: ArticleTokens, spans: dict, decoding: DecodingConfig = PLAIN, **given) -> Article:
    """The quotes assembled over one window holding the whole text."""
    return assemble_article(
        Article("a", text), tokens, [(0, len(tokens.ids))], spans, link_first_quote_only, decoding, **given
    )


def quote_fragments(text: str, tokens: ArticleTokens, spans: dict) -> list[list[str]]:
    """The text of each quote's fragments, grouped by the rules (a checkpoint without a fragment joiner)."""
    article = assemble(text, tokens, spans)
    return [[text[s:e] for s, e in q.spans] for q in article.quotes]


def test_an_interrupted_quote_is_one_quote_with_two_fragments():
    text = '"We will rebuild," the mayor said, "every single house."'
    tokens = word_tokens(text)
    spans = {
        "CONTENT": [token_span(text, tokens, '"We will rebuild,"'), token_span(text, tokens, '"every single house."')],
        "CUE": [token_span(text, tokens, "said")],
        "SOURCE": [token_span(text, tokens, "the mayor")],
    }
    [quote] = assemble(text, tokens, spans).quotes
    assert [text[s:e] for s, e in quote.spans] == ['"We will rebuild,"', '"every single house."']
    assert text[quote.speaker[0] : quote.speaker[1]] == "the mayor" and quote.type == "direct"


def test_paragraph_breaks_reach_the_encoder_as_marker_tokens():
    from transformers import AutoTokenizer

    from quoteattr.training.base_model import PACKAGED_MODEL, resolve_model_path

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(PACKAGED_MODEL))
    text = "Headline here\n\nRussia says militants attack."
    plain, marked = tokenize(tokenizer, text), tokenize(tokenizer, text, "¶")
    assert len(marked.ids) == len(plain.ids) + 2  # one marker per line break
    assert [text[s:e] for s, e in marked.offsets if text[s:e] == "\n"] == ["\n", "\n"]
    assert marked.paragraphs[-1] == 1 and marked.paragraphs[0] == 0


def test_the_grouping_rules_join_quotations_split_by_a_cue_sentence():
    text = (
        '"We will rebuild," the mayor said. "Every house will stand." '
        "Later the rain stopped . The plan , she said . Was fine ."
    )
    tokens = word_tokens(text)
    spans = {
        "CONTENT": [
            token_span(text, tokens, '"We will rebuild,"'),
            token_span(text, tokens, '"Every house will stand."'),
            token_span(text, tokens, "The plan"),
            token_span(text, tokens, "Was fine"),
        ],
        "CUE": [token_span(text, tokens, "said", 0), token_span(text, tokens, "said", 1)],
        "SOURCE": [token_span(text, tokens, "the mayor"), token_span(text, tokens, "she")],
    }
    # two quotations of one turn join; unquoted clauses split by a sentence end do not
    assert quote_fragments(text, tokens, spans) == [
        ['"We will rebuild,"', '"Every house will stand."'],
        ["The plan"],
        ["Was fine"],
    ]


def test_a_source_the_tagger_was_unsure_of_becomes_a_linker_candidate_not_a_speaker():
    text = "Officials at the agency said the plan would fail , and the union agreed ."
    tokens = word_tokens(text)
    officials = token_span(text, tokens, "Officials at the agency")
    logits = logits_for(
        len(tokens.ids),
        {token_span(text, tokens, "the plan would fail"): "CONTENT", token_span(text, tokens, "said"): "CUE"},
    )
    logits[officials[0], LABEL2ID["B-SOURCE"]] = 2.0  # below O (3.0): Viterbi leaves it out
    logits[officials[0] + 1 : officials[1], LABEL2ID["I-SOURCE"]] = 2.5
    plain = decode_roles(text, tokens, logits, PLAIN.replace(min_content_words=1))
    favoured = decode_roles(text, tokens, logits, PLAIN.replace(min_content_words=1, source_candidate_bias=1.5))
    assert plain["SOURCE"] == favoured["SOURCE"] == [] and "CANDIDATE" not in plain
    assert favoured["CANDIDATE"] == [officials] and favoured["CONTENT"] == plain["CONTENT"]
    quote = assemble(text, tokens, favoured).quotes[0]
    assert text[quote.speaker[0] : quote.speaker[1]] == "Officials at the agency"
    unlinked = assemble_article(
        Article("a", text),
        tokens,
        [(0, len(tokens.ids))],
        plain,
        lambda rs: [[(None, None, NEAREST_CUE)] * len(r.quotes) for r in rs],
        PLAIN,
    )
    assert unlinked.quotes[0].speaker is None


def test_the_grouping_rules_keep_a_quote_introduced_by_its_own_cue_from_the_next_speakers_quote():
    text = (
        'After Scalia said that students might do better elsewhere, Trump said: "I do not like it." '
        '"We will rebuild," the mayor said, "every house."'
    )
    tokens = word_tokens(text)
    spans = {
        "CONTENT": [
            token_span(text, tokens, "that students might do better elsewhere"),
            token_span(text, tokens, '"I do not like it."'),
            token_span(text, tokens, '"We will rebuild,"'),
            token_span(text, tokens, '"every house."'),
        ],
        "CUE": [
            token_span(text, tokens, "said", 0),
            token_span(text, tokens, "said", 1),
            token_span(text, tokens, "said", 2),
        ],
        "SOURCE": [
            token_span(text, tokens, "Scalia"),
            token_span(text, tokens, "Trump"),
            token_span(text, tokens, "the mayor"),
        ],
    }
    # Scalia's clause has its cue before it, so "Trump said:" opens another quote; the mayor's quote has none and
    # stays whole
    assert quote_fragments(text, tokens, spans) == [
        ["that students might do better elsewhere"],
        ['"I do not like it."'],
        ['"We will rebuild,"', '"every house."'],
    ]


def test_the_grouping_rules_join_quotations_split_by_a_wordy_cue_clause():
    text = (
        '"We will rebuild," Mayor Ann Lee told reporters on Monday. "Every house." '
        "Later the rain stopped, she said on Monday, as expected."
    )
    tokens = word_tokens(text)
    spans = {
        "CONTENT": [
            token_span(text, tokens, '"We will rebuild,"'),
            token_span(text, tokens, '"Every house."'),
            token_span(text, tokens, "Later the rain stopped"),
            token_span(text, tokens, "as expected"),
        ],
        "CUE": [token_span(text, tokens, "told"), token_span(text, tokens, "said")],
        "SOURCE": [token_span(text, tokens, "Mayor Ann Lee"), token_span(text, tokens, "she")],
    }
    # quotations on both sides of the cue clause join; unquoted clauses around a wordy cue do not
    assert quote_fragments(text, tokens, spans) == [
        ['"We will rebuild,"', '"Every house."'],
        ["Later the rain stopped"],
        ["as expected"],
    ]


def test_two_apostrophes_quote_like_a_double_quotation_mark():
    from quoteattr.data.quotemarks import quote_type, quoted_regions

    text = (
        "''We will rebuild,'' Mr. Lee said. ''Every house.''\n\n"
        "``Never again,'' she added, calling it a ''disgrace'' to all."
    )
    regions = quoted_regions(text)
    assert [text[s:e] for s, e in regions] == [
        "''We will rebuild,''",
        "''Every house.''",
        "``Never again,''",
        "''disgrace''",
    ]
    assert quote_type(text, [regions[0]], regions) == "direct"
    tokens = word_tokens(text)
    spans = {
        "CONTENT": [token_span(text, tokens, "''We will rebuild,''"), token_span(text, tokens, "''Every house.''")],
        "CUE": [token_span(text, tokens, "said")],
        "SOURCE": [token_span(text, tokens, "Mr. Lee")],
    }
    # the New York Times' marks delimit one turn across its cue sentence, as '"' does
    assert quote_fragments(text, tokens, spans) == [["''We will rebuild,''", "''Every house.''"]]


def test_a_straight_mark_after_any_space_opens_a_quotation():
    """A no-break space (scraped news: 'said.\xa0"…"') opens a quotation as a space does."""
    from quoteattr.data.quotemarks import quote_type, quoted_regions

    text = '"We will sue," he said.\xa0"Everybody sues, right?"\u2009"Yes."'
    regions = quoted_regions(text)
    assert [text[s:e] for s, e in regions] == ['"We will sue,"', '"Everybody sues, right?"', '"Yes."']
    assert quote_type(text, [regions[1]], regions) == "direct"


def test_edge_commas_outside_quotations_are_trimmed():
    from quoteattr.data.quotemarks import quoted_regions
    from quoteattr.systems.model.assembly import trim_edge_commas

    text = 'She urged the city to act, proposed more. According to some, Kelly was "lost, " she said.'
    regions = quoted_regions(text)
    urged = (text.index("the city"), text.index(" proposed"))  # "the city to act," with its comma
    kelly = (text.index(", Kelly"), text.index(" she said"))  # starts at the comma; the one inside the marks stays
    assert [text[s:e] for s, e in trim_edge_commas(text, [urged, kelly], regions)] == [
        "the city to act",
        'Kelly was "lost, "',
    ]


def test_viterbi_finds_the_best_valid_sequence():
    import itertools

    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(1, 5))
        logits = (rng.normal(size=(n, len(LABELS))) * rng.choice([0.5, 3.0])).astype(np.float32)
        logits[:, [LABEL2ID["I-CONTENT"], LABEL2ID["I-CUE"]]] += rng.choice([0.0, 2.0])  # inside tags often win alone
        scores = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        total = lambda sequence, scores=scores: sum(scores[i, tag] for i, tag in enumerate(sequence))  # noqa: E731
        best = max((s for s in itertools.product(range(len(LABELS)), repeat=n) if valid_bio(s)), key=total)
        found = tuple(int(t) for t in viterbi_tags(logits))
        assert valid_bio(found) and abs(total(found) - total(best)) < 1e-5


def test_bio_tags_become_spans_per_role():
    from quoteattr.systems.model.tag_decoding import decode_spans

    labels = [
        "I-CONTENT",
        "I-CONTENT",
        "B-CUE",
        "I-SOURCE",
        "O",
        "B-CONTENT",
        "B-CONTENT",
        "I-CONTENT",
        "I-CUE",
        "I-CUE",
    ]
    # an I- without its B- opens a span; a B- right after a span of its role opens another; a role change ends one
    assert decode_spans(np.array([LABEL2ID[label] for label in labels])) == {
        "CONTENT": [(0, 2), (5, 6), (6, 8)],
        "CUE": [(2, 3), (8, 10)],
        "SOURCE": [(3, 4)],
    }
    assert decode_spans(np.array([], dtype=np.int64)) == {"CONTENT": [], "CUE": [], "SOURCE": []}


def test_a_decoding_config_checks_every_value_and_names_its_source():
    import pytest

    from quoteattr.data.errors import InputError

    assert DecodingConfig.parse("tags=argmax, min_quote_score=0.5") == DecodingConfig(
        tags="argmax", min_quote_score=0.5
    )
    for text, message in [
        ("tags=viterbe", "tags must be one of viterbi, argmax"),
        ("content_gap_tokens=-1", "content_gap_tokens must be a whole number ≥ 0"),
        ("trim_commas=maybe", "trim_commas must be true or false"),
        ("join_threshold=2", "join_threshold must lie in [0, 1]"),
        ("join_wordy_cues=true", "unknown decoding options ['join_wordy_cues']"),
        ("snap_to_marks=1", "unknown decoding options ['snap_to_marks']"),
        ("viterbi", "option=value pairs"),
    ]:
        with pytest.raises(InputError) as raised:
            DecodingConfig.parse(text, "configs/x.yaml: decoding")
        assert str(raised.value).startswith("configs/x.yaml: decoding") and message in str(raised.value)


def test_a_format_1_checkpoint_keeps_its_decoding_and_its_threshold_moves_to_the_calibrated_scale():
    from quoteattr.systems.model.confidence import calibrate
    from quoteattr.systems.model.decoding_config import DECODING_FORMAT, migrated_settings

    old = {
        "max_length": 256,
        "decoding": "viterbi",
        "content_gap_tokens": 0,
        "snap_to_marks": 1,
        "continuation": True,
        "min_quote_score": 0.6,
        "calibration": {"score": [1.4, 0.3], "speaker_score": None},
    }
    settings, decoding = migrated_settings(old, "old/config.json")
    assert decoding.tags == "viterbi" and decoding.content_gap_tokens == 0
    assert decoding.min_content_words == 3  # format 1's own default
    assert decoding.min_quote_score == calibrate(0.6, [1.4, 0.3])
    scores = [0.3, 0.59, 0.6, 0.61, 0.9]  # Platt scaling is monotone: the same quotes pass either threshold
    assert [s >= 0.6 for s in scores] == [calibrate(s, [1.4, 0.3]) >= decoding.min_quote_score for s in scores]
    assert settings["decoding"]["format_version"] == DECODING_FORMAT and "snap_to_marks" not in settings
    assert migrated_settings(settings, "new")[1] == decoding


def test_a_format_2_checkpoint_loses_the_grouping_options_the_joiner_replaced():
    from quoteattr.systems.model.decoding_config import DECODING_FORMAT, GROUPING_OPTIONS, migrated_settings

    block = {"format_version": 2, "tags": "argmax", "min_quote_score": 0.3, **dict.fromkeys(GROUPING_OPTIONS, True)}
    settings, decoding = migrated_settings({"max_length": 256, "decoding": block}, "old/config.json")
    assert decoding == DecodingConfig(tags="argmax", min_quote_score=0.3)
    assert settings["decoding"] == {"format_version": DECODING_FORMAT, **decoding.to_dict()}
    assert not set(GROUPING_OPTIONS) & set(settings["decoding"])


def test_a_speaker_mention_loses_its_edge_punctuation():
    from quoteattr.systems.model.assembly import strip_edges

    text = 'He said, "the defendant," then Acme Inc. agreed.'
    for mention, expected in [(', "the defendant,"', "the defendant"), ("Acme Inc.", "Acme Inc."), (",", ",")]:
        start = text.index(mention)
        stripped = strip_edges(text, (start, start + len(mention)))
        assert text[stripped[0] : stripped[1]] == expected
