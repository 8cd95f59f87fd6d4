"""The PolNeAR converter on hand-made brat snippets, and on the real dev compartment where present."""

from __future__ import annotations

from pathlib import Path

import pytest

from quoteattr.cli import main
from quoteattr.data.readers import read_articles
from quoteattr.dataset.polnear import convert_compartment

TEXT = (
    "Trump said the polls were rigged. “We will win big,” he told the crowd.\n\n"
    "Voters, the campaign argued, were tired of politics. It was reported that turnout fell. "
    "Read the rest here."
)


def span(fragment: str, occurrence: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(fragment, start + 1)
    return start, start + len(fragment)


def brat(tag: str, label: str, *fragments: str) -> str:
    spans = [span(f) for f in fragments]
    ranges = ";".join(f"{s} {e}" for s, e in spans)
    return f"{tag}\t{label} {ranges}\t{' '.join(TEXT[s:e] for s, e in spans)}"


def make_compartment(root: Path, annotations: dict[str, list[str]], text: str = TEXT) -> Path:
    folder = root / "dev"
    (folder / "text").mkdir(parents=True)
    (folder / "attributions").mkdir()
    (folder / "text" / "art1.txt").write_text(text, encoding="utf-8")
    for annotator, lines in annotations.items():
        (folder / "attributions" / f"art1_{annotator}.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "metadata.tsv").write_text(
        "compartment\tfilename\tannotators\tpublisher\ttitle\ndev\tart1\tbbbb\tnyt\tA title\n", encoding="utf-8"
    )
    return folder


MAIN_ANNOTATION = [
    brat("T1", "Source", "Trump"),
    brat("T2", "Cue", "said"),
    brat("T3", "Content", "the polls were rigged"),
    brat("T4", "Attribution", "said"),
    "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1",
    brat("T5", "Content", "“We will win big,”"),
    brat("T6", "Source", "he"),
    brat("T7", "Cue", "told"),
    brat("T8", "Attribution", "told"),
    "E2\tAttribution:T8 Source:T6 Cue:T7 Content:T5",
    brat("T9", "Content", "Voters", "were tired of politics"),
    brat("T10", "Source", "the campaign"),
    brat("T11", "Cue", "argued"),
    brat("T12", "Attribution", "argued"),
    "E3\tAttribution:T12 Content:T9 Source:T10 Cue:T11",
    brat("T13", "Cue", "was reported"),
    brat("T14", "Content", "that turnout fell"),
    brat("T15", "Attribution-no-source", "was reported"),
    "E4\tAttribution-no-source:T15 Cue:T13 Content:T14",
    brat("T16", "Discard", "Read the rest here."),
]


def test_brat_snippet_converts_every_kind(tmp_path: Path):
    other = MAIN_ANNOTATION[:5]  # a second annotator who found only the first attribution
    folder = make_compartment(tmp_path, {"bbbb": MAIN_ANNOTATION, "aaaa": other})
    [article], report = convert_compartment(folder, progress=False)
    assert report.problems == []
    assert article.meta["annotator"] == "bbbb"  # first listed in metadata.tsv, not first alphabetically
    assert report.agreement[0]["other"] == "aaaa" and report.agreement[0]["content_overlap_f1"] == pytest.approx(0.4)
    # the counts behind it travel with the article, so a dataset built from it can report the agreement
    [counts] = article.meta["annotator_agreement"]
    assert counts["other"] == "aaaa" and counts["content_overlap"] == [1, 1, 1, 4]
    by_content = {" | ".join(TEXT[s:e] for s, e in q.spans): q for q in article.quotes}
    assert set(by_content) == {
        "the polls were rigged",
        "“We will win big,”",
        "Voters | were tired of politics",
        "that turnout fell",
    }
    assert by_content["the polls were rigged"].type == "indirect"
    assert by_content["“We will win big,”"].type == "direct"
    assert by_content["“We will win big,”"].speaker_entity == "Trump"  # "he" → the nearest named source
    assert by_content["Voters | were tired of politics"].spans == [span("Voters"), span("were tired of politics")]
    no_source = by_content["that turnout fell"]
    assert no_source.speaker is None and TEXT[no_source.cue[0] : no_source.cue[1]] == "was reported"
    assert article.meta["silver_speaker_entities"] is True


def test_bad_brat_lines_are_reported_not_fatal(tmp_path: Path):
    lines = MAIN_ANNOTATION[:5] + ["T9\tContent 9999 10010\tnowhere", "E2\tAttribution:T4 Content:T77", "garbage"]
    folder = make_compartment(tmp_path, {"bbbb": lines})
    (folder / "attributions" / "ghost_cccc.ann").write_text(lines[0] + "\n", encoding="utf-8")
    articles, report = convert_compartment(folder, progress=False)
    assert len(articles) == 1 and len(articles[0].quotes) == 1
    problems = "\n".join(report.problems)
    assert "art1_bbbb.ann: line 6: Content offsets 9999 10010 are outside the text" in problems
    assert "refers to missing T77" in problems
    assert "ghost.txt: skipped" in problems


def test_polnear_dev_converts_and_validates(polnear_dir: Path, tmp_path: Path, capsys):
    output = tmp_path / "dev.jsonl"
    assert main(["convert", "polnear", "--input", str(polnear_dir / "dev"), "--output", str(output)]) == 0
    articles = read_articles(output)  # validates every span against its text
    assert len(articles) == 84
    assert sum(len(a.quotes) for a in articles) > 2000
    assert {q.type for a in articles for q in a.quotes} == {"direct", "indirect", "mixed"}
    assert "annotator agreement on" in capsys.readouterr().out


def test_dataset_card_of_a_converted_build_reports_annotator_agreement(tmp_path: Path):
    other = MAIN_ANNOTATION[:5]
    folder = make_compartment(tmp_path, {"bbbb": MAIN_ANNOTATION, "aaaa": other})
    converted = tmp_path / "train.jsonl"
    assert main(["convert", "polnear", "--input", str(folder), "--output", str(converted)]) == 0
    assert main(["build", "--train", str(converted), "--output", str(tmp_path / "ds")]) == 0
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "## Annotator agreement" in card
    assert "| train | 1 | 0.400 |" in card  # content overlap: 1 of 4 gold quotes found, the 1 predicted right
    assert "the kept annotator's\nlabels as gold, each other annotator's as a prediction" in card


SPLIT_TEXT = (
    '"It was close," added Sen. Tom Ruiz, of Springfield, Ill. “Next time.”\n\n'
    '"We lost," he said. "But we will be back."\n\n'
    '"We tried," Ruiz argued, "and failed." Ana Diaz disagreed.'
)
SPLIT_ATTRIBUTIONS = [
    (['"It was close,"', "“Next time.”"], "added", "Tom Ruiz, of Springfield, Ill."),  # the source holds the period
    (['"We lost,"', '"But we will be back."'], "said", "he"),  # the sentence ends after the cue: split
    (['"We tried,"', '"and failed."'], "argued", "Ruiz"),  # an interrupted sentence stays one quote
]


def split_compartment(root: Path, annotators: dict[str, list[tuple[list[str], str, str]]]) -> Path:
    """A compartment of SPLIT_TEXT with each annotator's attributions (content fragments, cue, source)."""

    def at(fragment: str) -> str:
        start = SPLIT_TEXT.index(fragment)
        return f"{start} {start + len(fragment)}"

    annotations = {}
    for annotator, attributions in annotators.items():
        annotations[annotator] = [
            line
            for n, (contents, cue, source) in enumerate(attributions)
            for line in (
                f"T{n}0\tContent {';'.join(at(c) for c in contents)}",
                f"T{n}1\tCue {at(cue)}",
                f"T{n}2\tSource {at(source)}",
                f"T{n}3\tAttribution {at(cue)}",
                f"E{n}\tAttribution:T{n}3 Content:T{n}0 Cue:T{n}1 Source:T{n}2",
            )
        ]
    return make_compartment(root, annotations, SPLIT_TEXT)


def test_content_after_its_cue_sentence_becomes_a_continuation_of_the_same_speaker(tmp_path: Path):
    [article], report = convert_compartment(split_compartment(tmp_path, {"x": SPLIT_ATTRIBUTIONS}), progress=False)
    assert report.problems == []
    quotes = {" | ".join(SPLIT_TEXT[s:e] for s, e in q.spans): q for q in article.quotes}
    assert set(quotes) == {'"We lost,"', '"But we will be back."', '"It was close,"', "“Next time.”"} | {
        '"We tried," | "and failed."'
    }
    for head, continuation in [('"We lost,"', '"But we will be back."'), ('"It was close,"', "“Next time.”")]:
        assert quotes[continuation].cue is None and quotes[continuation].speaker is None
        assert quotes[continuation].speaker_entity == quotes[head].speaker_entity is not None
        assert quotes[continuation].type == "direct"
    assert quotes['"But we will be back."'].speaker_entity == quotes["“Next time.”"].speaker_entity == "Tom Ruiz"


def test_agreement_sees_who_a_continuation_s_speaker_is(tmp_path: Path):
    """A second annotator who gives the split quote another speaker disagrees on its continuation too."""
    other = [SPLIT_ATTRIBUTIONS[0], (SPLIT_ATTRIBUTIONS[1][0], "said", "Ana Diaz"), SPLIT_ATTRIBUTIONS[2]]
    folder = split_compartment(tmp_path, {"x": SPLIT_ATTRIBUTIONS, "y": other})
    [article], report = convert_compartment(folder, progress=False)
    [agreement] = report.agreement
    assert agreement["content_exact_f1"] == 1.0
    assert agreement["attribution_f1"] == pytest.approx(3 / 5)  # "We lost," and its continuation are wrong
