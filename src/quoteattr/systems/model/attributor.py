"""QuoteAttributor: the trained model as a system — load a checkpoint offline, predict quotes and speakers.

A checkpoint folder holds the tagger (``model.safetensors`` + ``config.json`` with the label maps and
the ``quoteattr`` settings), the tokenizer, the speaker linker (``linker.safetensors``) and README.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from quoteattr.data.errors import InputError
from quoteattr.data.quotemarks import (
    CLOSERS,
    OPENERS,
    STRAIGHT,
    continues_turn,
    inside_quotation,
    quote_type,
    quoted_regions,
)
from quoteattr.data.schema import Article, Quote, Span, as_article, as_articles, entities_from_quotes, overlaps_any
from quoteattr.data.writers import plain_permissions
from quoteattr.systems.mention_resolver import resolve_mentions
from quoteattr.systems.model.confidence import calibrate, log_probabilities, quote_score
from quoteattr.systems.model.modeling import QuoteAttributionModel, SpeakerLinker
from quoteattr.systems.model.runtimes import Encoder, TorchEncoder, load_encoder, quiet_progress
from quoteattr.systems.model.windows import (
    LABEL2ID,
    ArticleTokens,
    char_span,
    clean_content_spans,
    decode_spans,
    merge_window_logits,
    token_range,
    tokenize,
    viterbi_tags,
    window_bounds,
    window_paragraphs,
)

LINKER_FILE = "linker.safetensors"
WEIGHTS_FILE = "model.safetensors"
_GAP_CHARS = set(" \t\n,;:—–-\"“”‘’'()")
_SENTENCE_END = set(".!?…")
_SENTENCE_BREAK = re.compile(r"[.!?…][\"”’']*\s|\n")


def read_config(file: Path) -> dict[str, Any]:
    """A checkpoint's config.json, which must hold the ``quoteattr`` settings; a truncated or edited one is
    an error naming the file."""
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        raise InputError(f"{file}: unreadable ({error}); copy the checkpoint again") from None
    if not isinstance(config, dict) or not isinstance(config.get("quoteattr"), dict):
        raise InputError(f"{file}: no quoteattr settings; not a quoteattr checkpoint's config")
    return config


def check_safetensors(file: Path) -> None:
    """Fail early, naming the file, on a missing, truncated or overwritten safetensors file (its header must
    cover the whole file exactly, so a cut or overwrite shows there): a loader would stop with a traceback."""
    from safetensors import SafetensorError, safe_open

    if not file.is_file():
        raise InputError(f"{file}: missing; the checkpoint is incomplete")
    try:
        with safe_open(str(file), framework="pt"):
            pass
    except (SafetensorError, OSError) as error:
        raise InputError(f"{file}: truncated or corrupted ({error}); copy the checkpoint again") from None


@dataclass
class Analysis:
    """One article through the encoder: its tokens, windows, and each window's tag logits and hidden states."""

    tokens: ArticleTokens
    windows: list[Span]
    logits: list[np.ndarray]
    hidden: list[torch.Tensor]


class QuoteAttributor:
    """Finds quotes (content, cue, source) with the tagger and links each quote to a source with the linker."""

    def __init__(
        self,
        model: QuoteAttributionModel | None,
        tokenizer: Any,
        settings: dict[str, Any],
        name: str = "model",
        encoder: Encoder | None = None,
        linker: SpeakerLinker | None = None,
    ) -> None:
        """``model`` is the PyTorch tagger + linker; an exported checkpoint passes its ``encoder`` runtime and
        ``linker`` instead (and has no model to save)."""
        self.model = model.eval() if model is not None else None
        self.tokenizer = tokenizer
        self.settings = settings
        self.name = name
        self.linker = (linker if linker is not None else model.linker).eval()
        self.encoder = encoder if encoder is not None else TorchEncoder(model.tagger)
        self.device = next(self.linker.parameters()).device

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | None = None) -> QuoteAttributor:
        """Load a checkpoint folder offline (safetensors and ONNX only; no pickle, no remote code); an
        exported one runs its encoder where its ``runtime`` setting says. A missing, truncated or corrupted
        file is an InputError naming it, raised before any weights are loaded where it can be."""
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

        path = Path(path)
        config = path / "config.json"
        if not config.exists() or not (path / LINKER_FILE).exists():
            raise InputError(f"{path}: not a quoteattr checkpoint (needs config.json and {LINKER_FILE})")
        settings = read_config(config)["quoteattr"]
        runtime = settings.get("runtime", {})
        torch_weights = runtime.get("backend", "torch") == "torch"
        check_safetensors(path / LINKER_FILE)
        if torch_weights:
            check_safetensors(path / WEIGHTS_FILE)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
        except (ValueError, OSError) as error:
            reason = (str(error) or type(error).__name__).splitlines()[0]
            raise InputError(f"{path / 'tokenizer.json'}: unreadable ({reason}); copy the checkpoint again") from None
        linker = SpeakerLinker(AutoConfig.from_pretrained(str(path)).hidden_size, **settings["linker"])
        try:
            linker.load_state_dict(load_file(str(path / LINKER_FILE)))
        except RuntimeError:
            raise InputError(f"{path / LINKER_FILE}: does not fit the linker {config} describes") from None
        with quiet_progress():
            tagger = AutoModelForTokenClassification.from_pretrained(str(path)) if torch_weights else None
        if runtime:
            return cls(None, tokenizer, settings, str(path), encoder=load_encoder(path, runtime, tagger), linker=linker)
        model = QuoteAttributionModel(tagger, linker)
        model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        return cls(model, tokenizer, settings, name=str(path))

    def save_pretrained(self, path: str | Path) -> None:
        """Write tagger, tokenizer, settings and linker as safetensors + JSON."""
        from safetensors.torch import save_file

        if self.model is None:
            raise ValueError(
                f"{self.name}: an exported checkpoint cannot be saved again; export from the PyTorch checkpoint"
            )
        path = Path(path)
        self.model.tagger.config.quoteattr = self.settings
        with quiet_progress():
            self.model.tagger.save_pretrained(str(path))
        self.tokenizer.save_pretrained(str(path))
        save_file({k: v.contiguous() for k, v in self.model.linker.state_dict().items()}, str(path / LINKER_FILE))
        for file in path.iterdir():
            plain_permissions(file)  # safetensors writes 0600: a colleague or another job must be able to read it

    # -- inference -------------------------------------------------------------------------------

    def _encode(self, tokens: ArticleTokens) -> tuple[list[Span], list[list[int]]]:
        size = self.settings["max_length"] - 2
        windows = window_bounds(len(tokens.ids), size, self.settings["stride"])
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        return windows, [[cls_id, *tokens.ids[s:e], sep_id] for s, e in windows]

    @torch.inference_mode()
    def _run(self, sequences: list[list[int]], batch_size: int) -> tuple[list[np.ndarray], list[torch.Tensor]]:
        """Tag logits (without [CLS]/[SEP]) and last hidden states for every window."""
        logits, hidden = [], []
        pad = self.tokenizer.pad_token_id
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        results: dict[int, tuple[np.ndarray, torch.Tensor]] = {}
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(sequences[i]) for i in chunk)
            ids = torch.full((len(chunk), length), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), length), dtype=torch.long)
            for row, index in enumerate(chunk):
                ids[row, : len(sequences[index])] = torch.tensor(sequences[index])
                mask[row, : len(sequences[index])] = 1
            batch_logits, batch_hidden = self.encoder(ids, mask)
            batch_hidden = batch_hidden.to(self.device)
            for row, index in enumerate(chunk):
                n = len(sequences[index])
                results[index] = (batch_logits[row, 1 : n - 1].float().cpu().numpy(), batch_hidden[row : row + 1, :n])
        for index in range(len(sequences)):
            logits.append(results[index][0])
            hidden.append(results[index][1])
        return logits, hidden

    def analyse(self, articles: Iterable[Article], batch_size: int = 32) -> Iterator[tuple[Article, Analysis]]:
        """Each article with its encoder outputs (windows batched across articles), ready to decode."""
        for group in _chunks(articles, articles_per_pass(batch_size)):
            yield from zip(group, self._analyse(group, batch_size))

    def _analyse(self, group: list[Article], batch_size: int) -> list[Analysis]:
        encoded, sequences = [], []
        for article in group:
            tokens = tokenize(self.tokenizer, article.text, self.settings.get("paragraph_marker"))
            windows, window_ids = self._encode(tokens) if tokens.ids else ([], [])
            encoded.append((tokens, windows, len(sequences)))
            sequences.extend(window_ids)
        logits, hidden = self._run(sequences, batch_size) if sequences else ([], [])
        return [
            Analysis(tokens, windows, logits[first : first + len(windows)], hidden[first : first + len(windows)])
            for tokens, windows, first in encoded
        ]

    def predict(
        self, articles: str | Article | Iterable[str | Article], batch_size: int = 32
    ) -> Article | Iterator[Article]:
        """Articles with quotes, cues, speakers and speaker entities. Like a transformers pipeline it takes
        plain text too: one string (or Article) gives one Article back, a list gives them in order."""
        if isinstance(articles, (str, Article)):
            return next(self._attribute_all([as_article(articles, 0)], batch_size, keep_quotes=False))
        return self._attribute_all(as_articles(articles), batch_size, keep_quotes=False)

    __call__ = predict

    def link(self, articles: Iterable[Article], batch_size: int = 32) -> Iterator[Article]:
        """Speaker linking alone, on the quotes already in the articles (e.g. gold quote spans)."""
        return self._attribute_all(articles, batch_size, keep_quotes=True)

    def _attribute_all(self, articles: Iterable[Article], batch_size: int, keep_quotes: bool) -> Iterator[Article]:
        for article, analysis in self.analyse(articles, batch_size):
            yield self.attribute(article, analysis, keep_quotes)

    def attribute(
        self, article: Article, analysis: Analysis, keep_quotes: bool = False, settings: dict[str, Any] | None = None
    ) -> Article:
        """The article's quotes decoded from its analysis (with ``settings`` instead of the checkpoint's
        decoding and calibration settings when given; ``{"calibration": None}`` gives raw scores);
        ``keep_quotes`` links the article's own quotes instead."""
        given = article.quotes if keep_quotes else None
        if not analysis.windows:
            return Article(article.id, article.text, article.meta, [Quote(list(q.spans), q.type) for q in given or []])
        options = {**DECODING_DEFAULTS, **self.settings, **(settings or {})}
        logits = merge_window_logits(len(analysis.tokens.ids), analysis.windows, analysis.logits)
        spans = decode_roles(article.text, analysis.tokens, logits, options)
        choose = self._linker_choice(analysis.tokens, analysis.hidden)
        attributed = assemble_article(
            article,
            analysis.tokens,
            analysis.windows,
            spans,
            choose,
            given=given,
            continuation=options["continuation"],
            snap_words=options["snap_to_marks"],
            across_sentences=options["join_across_sentences"],
            split_introduced=options["split_introduced"],
            wordy_cues=options["join_wordy_cues"],
            trim_commas=options["trim_commas"],
        )
        calibration = options.get("calibration") or {}
        log_probs = log_probabilities(logits)
        kept = []
        for quote in attributed.quotes:
            if given is None:
                raw = quote_score(
                    log_probs, [r for r in (token_range(analysis.tokens.offsets, s) for s in quote.spans) if r]
                )
                if raw < options["min_quote_score"]:
                    continue  # the tagger's least sure quotes cost more precision than they bring recall
                quote.score = calibrate(raw, calibration.get("score"))
            if quote.speaker_score is not None:
                quote.speaker_score = calibrate(quote.speaker_score, calibration.get("speaker_score"))
            kept.append(quote)
        return Article(attributed.id, attributed.text, attributed.meta, kept, entities_from_quotes(kept))

    def _linker_choice(self, tokens: ArticleTokens, hidden: list[torch.Tensor]):
        """A source chooser backed by the linker: one batched call scores every window's quotes against that
        window's sources; each choice comes with the linker's probability for it."""

        @torch.inference_mode()
        def choose(requests: list[LinkRequest]) -> list[list[tuple[Span | None, float | None]]]:
            answers: list[list[tuple[Span | None, float | None]]] = [[(None, None)] * len(r.quotes) for r in requests]
            linked = [(n, r) for n, r in enumerate(requests) if r.candidates]
            if not linked:
                return answers
            device = hidden[0].device
            quotes, candidates = max(len(r.quotes) for _, r in linked), max(len(r.candidates) for _, r in linked)
            contents, sources, paragraphs = [], [], []
            for _, r in linked:
                offset = r.bounds[0] - 1  # [CLS] comes first
                clipped = [(max(s, r.bounds[0]), min(e, r.bounds[1])) for s, e in r.quotes]
                contents.append(
                    [[s - offset, max(e, s + 1) - offset] for s, e in clipped] + [[0, 0]] * (quotes - len(clipped))
                )
                sources.append(
                    [[s - offset, e - offset] for s, e in r.candidates] + [[0, 0]] * (candidates - len(r.candidates))
                )
                paragraphs.append(torch.tensor(window_paragraphs(tokens, *r.bounds)))
            states = pad_sequence([hidden[r.window][0] for _, r in linked], batch_first=True)
            mask = torch.arange(candidates) < torch.tensor([len(r.candidates) for _, r in linked]).unsqueeze(1)
            scores = self.linker(
                states,
                torch.tensor(contents, device=device),
                torch.tensor(sources, device=device),
                mask.to(device),
                pad_sequence(paragraphs, batch_first=True).to(device),
            )
            probabilities = scores.float().softmax(-1)
            best, chosen = probabilities.max(-1)
            for row, (n, r) in enumerate(linked):
                answers[n] = [
                    (None if b == 0 else r.candidates[b - 1], p)
                    for b, p in zip(chosen[row, : len(r.quotes)].tolist(), best[row].tolist())
                ]
            return answers

        return choose


DECODING_DEFAULTS = {
    "content_gap_tokens": 4,
    "min_content_words": 3,
    "decoding": "argmax",
    "join_across_sentences": False,
    "snap_to_marks": None,
    "continuation": False,
    "source_candidate_bias": 0.0,
    "split_introduced": False,
    "join_wordy_cues": False,
    "min_quote_score": 0.0,
    "trim_commas": False,
}
"""Settings of checkpoints that predate an option (their behaviour is kept)."""


def decode_roles(
    text: str, tokens: ArticleTokens, logits: np.ndarray, settings: dict[str, Any]
) -> dict[str, list[Span]]:
    """BIO decoding (token by token, or the best valid sequence with ``decoding: viterbi``), then short
    gaps inside content filled and stray fragments dropped. With ``source_candidate_bias`` > 0, the source
    mentions a decoding with that much more weight on SOURCE tags finds besides (clear of every decoded
    span) come back as ``CANDIDATE``: more mentions for the linker to choose from, not speakers by themselves."""
    options = {**DECODING_DEFAULTS, **settings}

    def decode(scores: np.ndarray) -> dict[str, list[Span]]:
        return decode_spans(viterbi_tags(scores) if options["decoding"] == "viterbi" else scores.argmax(-1))

    spans = clean_content_spans(
        decode(logits), tokens, text, options["content_gap_tokens"], options["min_content_words"]
    )
    if options["source_candidate_bias"]:
        favoured = logits.copy()
        favoured[:, [LABEL2ID["B-SOURCE"], LABEL2ID["I-SOURCE"]]] += options["source_candidate_bias"]
        decoded = [s for found in spans.values() for s in found]
        spans["CANDIDATE"] = [s for s in decode(favoured)["SOURCE"] if not overlaps_any(s, decoded)]
    return spans


@dataclass
class LinkRequest:
    """The quotes (token extents) of one window to link, and the source mentions inside it."""

    window: int
    quotes: list[Span]
    candidates: list[Span]
    bounds: Span


SPEAKER_PRONOUNS = frozenset(
    """i me you he him she her it we us they them myself yourself himself herself itself ourselves yourselves
    themselves one someone somebody anyone anybody everyone everybody nobody noone none other others some many
    few several both all each either neither""".split()
)
"""Stop words that stand for a speaker on their own ("he said", "others warned"): a mention of them speaks."""


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS  # on first use: the model needs spaCy for nothing else

    return frozenset(STOP_WORDS) - SPEAKER_PRONOUNS


def can_speak(mention: str) -> bool:
    """Whether a source mention could name a speaker: it has a word (letters or digits) that is not a function
    word ("the", "of"; pronouns are not function words here). The tagger now and then tags punctuation (":")
    or a function word as a source, and the linker scores those as surely as names."""
    return any(word not in _function_words() for word in re.findall(r"['‘’]?[^\W_]+", mention.lower()))


def nearest_source(requests: list[LinkRequest]) -> list[list[tuple[Span | None, None]]]:
    """The source chooser without a linker: for each quote the closest source mention within 25 tokens (no score)."""
    return [[(_nearest(r.candidates, quote, limit=25), None) for quote in r.quotes] for r in requests]


def assemble_article(
    article: Article,
    tokens: ArticleTokens,
    windows: list[Span],
    spans: dict[str, list[Span]],
    choose_sources,
    given: list[Quote] | None = None,
    continuation: bool = False,
    snap_words: int | None = None,
    across_sentences: bool = False,
    split_introduced: bool = False,
    wordy_cues: bool = False,
    trim_commas: bool = False,
) -> Article:
    """Quotes from decoded token spans (or the ``given`` quotes), each linked to a source by ``choose_sources``
    (one call for every window's requests) in the window where the quote sits most centrally, with its nearest
    cue and a resolved speaker entity.
    With ``continuation``, a quote left without a speaker that carries on the previous quote's turn (the
    next sentence or paragraph, no cue of its own) takes that quote's speaker; with ``snap_words``, content
    fragments that nearly coincide with a quotation take its marks as edges (``snap_to_marks``); with
    ``across_sentences``, fragments split by a cue sentence are one quote; with ``split_introduced``, a quote
    that a cue of its own introduces never takes the next fragment; with ``wordy_cues``, two quotations
    split by a cue clause with other words in it are one quote (``_group_fragments``); with ``trim_commas``,
    a fragment's edge commas and semicolons outside quotation marks are not content (``trim_edge_commas``)."""
    text = article.text
    if given is None:
        quote_tokens = _group_fragments(text, tokens, spans, across_sentences, split_introduced, wordy_cues)
    else:
        quote_tokens = [[r for r in (token_range(tokens.offsets, s) for s in q.spans) if r] for q in given]
    regions = quoted_regions(text)
    source_spans = spans["SOURCE"] + spans.get("CANDIDATE", [])
    candidates = sorted(s for s in source_spans if can_speak(text[slice(*char_span(tokens.offsets, s))]))
    # each quote is linked in the window where it sits most centrally; one chooser call per window
    placed: dict[int, list[int]] = {}
    for index, fragments in enumerate(quote_tokens):
        if fragments:
            start, end = fragments[0][0], fragments[-1][1]
            window = max(range(len(windows)), key=lambda w: min(start - windows[w][0], windows[w][1] - end))
            placed.setdefault(window, []).append(index)
    requests = [
        LinkRequest(
            window,
            [(quote_tokens[i][0][0], quote_tokens[i][-1][1]) for i in indices],
            [s for s in candidates if windows[window][0] <= s[0] and s[1] <= windows[window][1]],
            windows[window],
        )
        for window, indices in placed.items()
    ]
    sources: dict[int, tuple[Span | None, float | None]] = {}
    for indices, chosen in zip(placed.values(), choose_sources(requests)):
        for index, (source, probability) in zip(indices, chosen):
            inside = source is not None and any(s <= source[0] < e for s, e in quote_tokens[index])
            sources[index] = (
                (None, None) if inside else (source, probability)
            )  # a speaker between two fragments is the quote's
    quotes: list[Quote] = []
    for index, fragments in enumerate(quote_tokens):
        if given:
            content = list(given[index].spans)
        else:
            content = [char_span(tokens.offsets, f) for f in fragments]
            content = snap_to_marks(text, content, regions, snap_words) if snap_words is not None else content
            content = trim_edge_commas(text, content, regions) if trim_commas else content
        kind = given[index].type if given else quote_type(text, content, regions)
        if not fragments:
            quotes.append(Quote(content, kind))
            continue
        source, probability = sources.get(index, (None, None))
        cue = _nearest(spans["CUE"], source or (fragments[0][0], fragments[-1][1]), limit=25)
        speaker = char_span(tokens.offsets, source) if source else None
        speaker = None if overlaps_any(speaker, content) else speaker
        cue_chars = char_span(tokens.offsets, cue) if cue else None
        quotes.append(
            Quote(
                content,
                kind,
                None if overlaps_any(cue_chars, content) else cue_chars,
                speaker,
                speaker_score=probability if speaker else None,
            )
        )
    if continuation:
        quotes.sort(key=lambda q: q.spans)
        for previous, quote in zip(quotes, quotes[1:]):
            if (
                quote.speaker is None
                and previous.speaker is not None
                and quote.cue in (None, previous.cue)
                and continues_turn(text, previous.end, quote.start)
                and not overlaps_any(previous.speaker, quote.spans)
            ):
                quote.speaker, quote.speaker_score = previous.speaker, previous.speaker_score
    mentions = sorted({q.speaker for q in quotes if q.speaker})
    names = dict(zip(mentions, (name for name, _ in resolve_mentions(text, mentions))))
    for quote in quotes:
        quote.speaker_entity = names.get(quote.speaker) if quote.speaker else None
    quotes.sort(key=lambda q: q.spans)
    return Article(article.id, text, article.meta, quotes, entities_from_quotes(quotes))


def snap_to_marks(text: str, content: list[Span], regions: list[Span], max_words: int) -> list[Span]:
    """A fragment that covers most of one quotation (marks included) and differs from it by at most
    ``max_words`` words at either edge becomes that quotation: a direct quote's content is its marks."""
    snapped = []
    for start, end in content:
        inside = [r for r in regions if r[0] < end and start < r[1]]
        if len(inside) == 1:
            region = inside[0]
            covered = min(end, region[1]) - max(start, region[0])
            edges = (
                text[min(start, region[0]) : max(start, region[0])]
                + " "
                + text[min(end, region[1]) : max(end, region[1])]
            )
            if covered >= 0.5 * (region[1] - region[0]) and len(re.findall(r"\w+", edges)) <= max_words:
                snapped.append(region)
                continue
        snapped.append((start, end))
    return snapped


def trim_edge_commas(text: str, content: list[Span], regions: list[Span]) -> list[Span]:
    """Fragments without the commas and semicolons (and the spaces by them) at their edges that lie outside
    every quotation: reported speech ends before the comma of the clause that follows it."""
    trimmed = []
    for start, end in content:
        while end - start > 1 and (
            text[end - 1].isspace() or text[end - 1] in ",;" and not inside_quotation(end - 1, regions)
        ):
            end -= 1
        while end - start > 1 and (
            text[start].isspace() or text[start] in ",;" and not inside_quotation(start, regions)
        ):
            start += 1
        trimmed.append((start, end))
    return trimmed


def _group_fragments(
    text: str,
    tokens: ArticleTokens,
    spans: dict[str, list[Span]],
    across_sentences: bool = False,
    split_introduced: bool = False,
    wordy_cues: bool = False,
) -> list[list[Span]]:
    """Content spans become quotes; fragments interrupted only by a cue or source ("…," he said, "…") are
    one; with ``across_sentences`` also when the cue ends its sentence ("…," he said. "…"). With
    ``split_introduced``, a quote whose own cue or source comes before it in its sentence ("X said that …")
    keeps its fragments to itself: a cue after it starts another attribution ("…, Y said: …"). With
    ``wordy_cues``, two quotations are one also when the clause between them holds a cue and other words,
    in one sentence ("…," Guan told reporters on Monday. "…")."""
    roles = sorted((s, e, role) for role in ("CONTENT", "CUE", "SOURCE") for s, e in spans[role])
    quotes: list[list[Span]] = []
    introduced: list[bool] = []
    for index, (start, end, role) in enumerate(roles):
        if role != "CONTENT":
            continue
        if (
            quotes
            and not (split_introduced and introduced[-1])
            and _interruption(text, tokens, quotes[-1][-1][1], start, roles, across_sentences, wordy_cues)
        ):
            quotes[-1].append((start, end))
            continue
        quotes.append([(start, end)])
        before = roles[index - 1] if index else None
        introduced.append(
            before is not None
            and before[2] != "CONTENT"
            and not _SENTENCE_BREAK.search(text[tokens.offsets[before[1] - 1][1] : tokens.offsets[start][0]])
        )
    return quotes


def _interruption(
    text: str,
    tokens: ArticleTokens,
    left: int,
    right: int,
    roles: list,
    across_sentences: bool,
    wordy_cues: bool = False,
) -> bool:
    between = [(s, e, r) for s, e, r in roles if s >= left and e <= right]
    if not any(r in ("CUE", "SOURCE") for _, _, r in between) or any(r == "CONTENT" for _, _, r in between):
        return False
    gap_text = text[tokens.offsets[left - 1][1] : tokens.offsets[right][0]]
    if "\n" in gap_text:
        return False
    covered = {i for s, e, _ in between for i in range(s, e)}
    gap = [i for i in range(left, right) if i not in covered]
    if all(set(text[tokens.offsets[i][0] : tokens.offsets[i][1]]) <= _GAP_CHARS for i in gap):
        return True
    quotations = _quotation_edge(text, tokens.offsets[left - 1][1], closing=True) and _quotation_edge(
        text, tokens.offsets[right][0], closing=False
    )
    # "…," Guan told reporters on Monday. "…": one cue clause with other words between two quotations of one turn
    if (
        wordy_cues
        and quotations
        and any(r == "CUE" for _, _, r in between)
        and not _SENTENCE_BREAK.search(gap_text.strip())
    ):
        return True
    # "…," he said. "…": the cue's sentence ends between two quotations of one turn
    return (
        across_sentences
        and quotations
        and all(set(text[tokens.offsets[i][0] : tokens.offsets[i][1]]) <= _GAP_CHARS | _SENTENCE_END for i in gap)
    )


def _quotation_edge(text: str, position: int, closing: bool) -> bool:
    """A closing quotation mark at or just after ``position`` (closing), or an opening one at or just before
    it: the marks of ``quotemarks`` (a two-character mark, such as two apostrophes, is looked for one wider)."""
    marks = CLOSERS + STRAIGHT if closing else OPENERS + STRAIGHT
    nearby = text[max(0, position - 1) : position + 2] if closing else text[max(0, position - 2) : position + 1]
    wider = text[max(0, position - 2) : position + 3] if closing else text[max(0, position - 3) : position + 2]
    return any(mark in (nearby if len(mark) == 1 else wider) for mark in marks)


def _nearest(spans: list[Span], anchor: Span, limit: int) -> Span | None:
    def distance(span: Span) -> int:
        return max(0, span[0] - anchor[1], anchor[0] - span[1])

    close = [s for s in spans if distance(s) <= limit]
    return min(close, key=distance) if close else None


def articles_per_pass(batch_size: int) -> int:
    """Articles whose windows are batched together: enough to fill the batches and leave few part-filled
    (memory grows with it: the encoder's states of every window in the group are held until it is decoded)."""
    return max(16, 2 * batch_size)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items, read lazily (an input stream is never held whole)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
