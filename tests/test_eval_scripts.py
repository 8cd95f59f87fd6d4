"""The diagnostic scripts in eval/: where exact matches are lost, each quote's speakers, the speaker-choice and the
assembly ablations."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from conftest import ROOT, at
from quoteattr.data.schema import Article, Quote
from quoteattr.data.writers import write_articles


def script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "eval" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exact_losses_sorts_each_gold_quote_by_why_it_is_not_exact(tmp_path: Path, capsys):
    text = (
        'Ann said that the plan would fail. "We will rebuild," Bo said, "every house." Cy said it rains. '
        '"Go," Di said. "Now."'
    )
    gold = Article(
        "a",
        text,
        quotes=[
            Quote([at(text, "that the plan would fail")], "indirect"),
            Quote([at(text, '"We will rebuild,"'), at(text, '"every house."')], "direct"),
            Quote([at(text, "it rains")], "indirect"),
            Quote([at(text, '"Go,"')], "direct"),
            Quote([at(text, '"Now."')], "direct"),  # the sentence after the cue: a quote of its own
        ],
    )
    predicted = Article(
        "a",
        text,
        quotes=[
            Quote([at(text, "the plan would fail")], "indirect"),  # the edge is off by "that"
            Quote([at(text, '"We will rebuild,"')], "direct"),  # one fragment of two
            Quote([at(text, '"Go,"'), at(text, '"Now."')], "direct"),  # two quotes joined
        ],
    )
    write_articles(tmp_path / "gold.jsonl", [gold])
    write_articles(tmp_path / "pred.jsonl", [predicted])
    exact_losses = script("exact_losses")
    args = ["--gold", str(tmp_path / "gold.jsonl"), "--pred", str(tmp_path / "pred.jsonl")]
    assert exact_losses.main([*args, "--output", str(tmp_path / "losses.json")]) == 0
    reasons = json.loads(capsys.readouterr().out)["reasons"]
    assert reasons == {
        "edges: that": 1,
        "grouping: fewer fragments": 1,
        "grouping: more fragments": 1,
        "not found": 1,
        "not found: overlaps another's match": 1,
    }
    written = json.loads((tmp_path / "losses.json").read_text())
    assert written["command"] == f"python eval/exact_losses.py {' '.join(args)} --output {tmp_path / 'losses.json'}"
    assert written["reasons"] == reasons and written["gold_quotes"] == 5
    assert exact_losses.main(["--gold", str(tmp_path / "missing.jsonl"), "--pred", str(tmp_path / "pred.jsonl")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'missing.jsonl'}")


def test_speakers_by_quote_gives_each_systems_entity_for_each_gold_quote(tmp_path: Path, capsys):
    text = '"We will rebuild," Mayor Ann Lee said. She said the plan would work. Bo Chen said it rains.'
    gold = Article(
        "a",
        text,
        quotes=[
            Quote([at(text, '"We will rebuild,"')], "direct", speaker_entity="Ann Lee"),
            Quote([at(text, "the plan would work")], "indirect", speaker_entity="Ann Lee"),
            Quote([at(text, "it rains")], "indirect", speaker_entity="Bo Chen"),
        ],
    )
    first = Article("a", text, quotes=[Quote([at(text, "We will rebuild")], "direct", speaker_entity="ann lee")])
    wrong = Quote([at(text, "it rains")], "indirect", speaker_entity="Ann Lee")  # the wrong person
    second = Article("a", text, quotes=[Quote([at(text, "the plan would work")], "indirect"), wrong])
    paths = [tmp_path / name for name in ("gold.jsonl", "first.jsonl", "second.jsonl")]
    for path, article in zip(paths, (gold, first, second)):
        write_articles(path, [article])
    args = ["--gold", str(paths[0]), "--pred", str(paths[1]), str(paths[2])]
    assert script("speakers_by_quote").main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["right_entity"] == {str(paths[1]): 1, str(paths[2]): 0} and result["gold_quotes"] == 3
    by_quote = [{path: given["entity"] for path, given in q["systems"].items()} for q in result["quotes"]]
    assert [list(entities.values()) for entities in by_quote] == [
        ["ann lee", "(not found)"],  # the first names her (case aside); the second has no quote there
        ["(not found)", None],  # the second finds the quote and names nobody
        ["(not found)", "Ann Lee"],
    ]
    assert script("speakers_by_quote").main(["--gold", str(paths[0]), "--pred", str(tmp_path / "none.jsonl")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'none.jsonl'}")


def test_the_linker_ablation_turns_each_step_off_in_turn(untrained_checkpoint: Path, gold, tmp_path: Path, capsys):
    write_articles(tmp_path / "gold.jsonl", gold.articles[:3])
    ablation = script("linker_ablation")
    args = ["--checkpoint", str(untrained_checkpoint), "--gold", str(tmp_path / "gold.jsonl")]
    assert ablation.main(args) == 0
    rows = json.loads(capsys.readouterr().out)["variants"]
    assert list(rows) == [
        "checkpoint as shipped",
        "the latest compatible antecedent instead of the learned scorer",
        "without named people as antecedents",
        "without the previous-speaker option",
    ]
    assert all(set(values) == {"speaker_entity", "attribution", "content_overlap"} for values in rows.values())


def test_the_linker_ablations_rules_variant_resolves_by_the_rules():
    from quoteattr.systems.model import assembly

    text = "Major General Igor Konashenkov, the Russian spokesman, said so. The Syrian general disagreed."
    mentions = [at(text, "Major General Igor Konashenkov, the Russian spokesman"), at(text, "The Syrian general")]
    learned = assembly.resolve_mentions(text, mentions)[1][0]
    with script("linker_ablation").antecedents_by_rule():
        by_rule = assembly.resolve_mentions(text, mentions)[1][0]
    assert (learned, by_rule) == ("Igor Konashenkov", None)  # the scorer's known error, which the rule avoids


def test_the_assembly_ablation_scores_the_joiner_beside_the_rules_it_replaced(
    untrained_checkpoint: Path, gold, tmp_path: Path, capsys
):
    from quoteattr.systems.model.attributor import QuoteAttributor
    from quoteattr.training.arguments import ModelArguments
    from quoteattr.training.trainer import build_model

    write_articles(tmp_path / "gold.jsonl", gold.articles[:3])
    ablation = script("assembly_ablation")
    assert ablation.main(["--checkpoint", str(untrained_checkpoint), "--gold", str(tmp_path / "gold.jsonl")]) == 0
    rows = json.loads(capsys.readouterr().out)["variants"]
    joiner_rows = [f"joiner, threshold {t}" for t in ablation.THRESHOLDS]
    assert [name for name in rows if name.startswith("joiner")] == joiner_rows
    assert list(rows)[len(joiner_rows) :] == [ablation.RULES, ablation.NEAREST_CUE]  # it has a cue scorer
    assert all(set(values) == set(ablation.REPORTED) for values in rows.values())

    tokenizer, model, settings = build_model(ModelArguments(max_length=128, stride=32, linker_fragment_joiner=False))
    rules_only = tmp_path / "rules-only"
    QuoteAttributor(model, tokenizer, {**settings, "calibration": None}).save_pretrained(rules_only)
    assert ablation.main(["--checkpoint", str(rules_only), "--gold", str(tmp_path / "gold.jsonl")]) == 2
    assert capsys.readouterr().err == f"error: {rules_only}: has no fragment joiner to compare with the rules\n"
