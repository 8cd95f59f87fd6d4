"""Schema ↔ Label Studio results: exact in both directions; malformed exports reported, not fatal."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEED
from quoteattr.data.schema import Article, Entity, Quote, validate_article
from quoteattr.labelstudio.format import article_to_results, canonical, results_to_article

NAMES = ["Igor Konashenkov", "Bouthaina Shaaban", "Ōsaka Gas 株式会社", "Zoë Ça", "the UN"]


@st.composite
def articles(draw) -> Article:
    alphabet = st.characters(codec="utf-8", exclude_categories=("Cs",))
    text = draw(st.text(alphabet=alphabet, min_size=30, max_size=160))
    cuts = sorted(draw(st.sets(st.integers(1, len(text) - 1), min_size=4, max_size=24)))
    pieces = list(zip([0] + cuts, cuts + [len(text)]))
    free = list(range(len(pieces)))
    quotes: list[Quote] = []
    speaker_names: dict[tuple[int, int], str] = {}
    for _ in range(draw(st.integers(0, 4))):
        if len(free) < 2:
            break
        n_fragments = draw(st.integers(1, min(3, len(free) - 1)))
        chosen = sorted(draw(st.permutations(free))[:n_fragments])
        free = [i for i in free if i not in chosen]
        fragments = [pieces[i] for i in chosen]
        roles = {}
        for role in ("cue", "speaker"):
            if free and draw(st.booleans()):
                roles[role] = pieces[draw(st.sampled_from(free))]
        entity = None
        if "speaker" in roles:
            entity = speaker_names.setdefault(roles["speaker"], draw(st.sampled_from(NAMES)))
        elif draw(st.booleans()):
            entity = draw(st.sampled_from(NAMES))
        quote_type = draw(st.sampled_from(["direct", "indirect", "mixed"]))
        score = draw(st.one_of(st.none(), st.floats(0, 1)))  # predictions carry scores; they survive the round trip
        speaker_score = draw(st.one_of(st.none(), st.floats(0, 1))) if "speaker" in roles else None
        quotes.append(
            Quote(fragments, quote_type, roles.get("cue"), roles.get("speaker"), entity, score, speaker_score)
        )
    entities: dict[str, Entity] = {}
    for span, name in speaker_names.items():
        entities.setdefault(name, Entity(name)).mentions.append(span)
    owned = set(speaker_names)
    for index in free:
        span = pieces[index]
        if span not in owned and entities and draw(st.booleans()):
            entities[draw(st.sampled_from(sorted(entities)))].mentions.append(span)
            owned.add(span)
    article = Article("a", text, {"lang": "xx"}, quotes, list(entities.values()))
    validate_article(article)
    return canonical(article)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles())
def test_schema_to_label_studio_and_back_is_exact(article: Article):
    back, issues = results_to_article(7, article.id, article.text, article.meta, article_to_results(article))
    assert issues == []
    assert back.to_dict() == article.to_dict()


def seed_task(gold) -> tuple[Article, list[dict]]:
    article = next(a for a in gold.articles if a.id == SEED.stem)
    return article, article_to_results(article)


def test_malformed_regions_are_named_and_the_rest_converts(gold):
    article, results = seed_task(gold)
    broken = copy.deepcopy(results)
    quote_regions = [r for r in broken if r["type"] == "labels" and r["value"]["labels"] == ["QUOTE"]]
    del quote_regions[0]["value"]  # missing value
    quote_regions[1]["value"]["end"] = len(article.text) + 50  # offsets outside the text
    quote_regions[2]["value"]["labels"] = ["OPINION"]  # unknown label
    broken.append({"type": "relation", "from_id": "q9999", "to_id": quote_regions[3]["id"], "labels": ["speaker"]})
    back, issues = results_to_article(42, article.id, article.text, article.meta, broken)
    messages = [str(issue) for issue in issues]
    assert f"task 42, region {quote_regions[0]['id']}: region has no id or no 'value'" in messages
    assert any(
        m.startswith(f"task 42, region {quote_regions[1]['id']}: offsets [") and "outside the text" in m
        for m in messages
    )
    assert (
        f"task 42, region {quote_regions[2]['id']}: unknown label ['OPINION']; "
        "expected one of ('QUOTE', 'CUE', 'SPEAKER', 'MENTION')" in messages
    )
    assert any("relation q9999→" in m and "missing region" in m for m in messages)
    assert len(back.quotes) == len(article.quotes) - 3  # the three broken quotes only


def test_misaligned_region_text_is_reported(gold):
    article, results = seed_task(gold)
    shifted = copy.deepcopy(results)
    region = next(r for r in shifted if r["type"] == "labels" and r["value"]["labels"] == ["SPEAKER"])
    region["value"]["start"] += 1
    region["value"]["end"] += 1
    back, issues = results_to_article(5, article.id, article.text, article.meta, shifted)
    assert any(f"region {region['id']}: region text" in str(i) and "does not match" in str(i) for i in issues)
    assert len(back.quotes) == len(article.quotes)  # the quotes stay; only that speaker is lost
