"""QuoteAttributor: the trained model as a system — load a checkpoint offline, predict quotes and speakers.

A checkpoint folder holds the tagger (``model.safetensors`` + ``config.json`` with the label maps and
the ``quoteattr`` settings), the tokenizer, the speaker linker (``linker.safetensors``) and README.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from quoteattr.data.errors import InputError
from quoteattr.data.schema import Article, Quote, Span, as_article, as_articles, entities_from_quotes
from quoteattr.data.writers import plain_permissions
from quoteattr.systems.entity_mentions import named_mentions
from quoteattr.systems.model.assembly import NEAREST_CUE, PREVIOUS, Link, LinkRequest, assemble_article
from quoteattr.systems.model.confidence import calibrate, log_probabilities, quote_score
from quoteattr.systems.model.decoding_config import DecodingConfig, migrated_settings
from quoteattr.systems.model.modeling import QuoteAttributionModel, SpeakerLinker
from quoteattr.systems.model.runtimes import Encoder, TorchEncoder, load_encoder, quiet_progress
from quoteattr.systems.model.tag_decoding import decode_roles
from quoteattr.systems.model.windows import (
    ArticleTokens,
    central_window,
    joiner_pair,
    merge_window_logits,
    token_range,
    tokenize,
    window_bounds,
    window_paragraphs,
)

CHECKPOINT_FORMAT = 2
"""``format_version`` in a checkpoint's settings (2: decoding in its own block, see ``DecodingConfig``; a
checkpoint of format 1 is migrated when loaded)."""
LINKER_FILE = "linker.safetensors"
WEIGHTS_FILE = "model.safetensors"


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
    named: list[tuple[Span, str]] | None = None

    def named_mentions(self, text: str) -> list[tuple[Span, str]]:
        """The people and organisations the article names (spaCy's entities, found once per analysis however
        often it is decoded)."""
        if self.named is None:
            self.named = named_mentions(text)
        return self.named


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
        self.settings, self.decoding = migrated_settings(settings, name)
        self.settings["format_version"] = CHECKPOINT_FORMAT
        self.name = name
        self.linker = (linker if linker is not None else model.linker).eval()
        self.encoder = encoder if encoder is not None else TorchEncoder(model.tagger)
        self.device = next(self.linker.parameters()).device
        transitions = self.linker.transitions
        self.transitions = None if transitions is None else transitions.scores.detach().float().cpu().numpy()

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
        try:
            linker = SpeakerLinker(AutoConfig.from_pretrained(str(path)).hidden_size, **settings["linker"])
        except TypeError:
            raise InputError(
                f"{config}: linker settings {settings['linker']} are not ones this quoteattr reads; upgrade it"
            ) from None
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
        self.settings["decoding"] = self.decoding.to_dict()
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
        self,
        article: Article,
        analysis: Analysis,
        keep_quotes: bool = False,
        decoding: DecodingConfig | None = None,
        calibrated: bool = True,
    ) -> Article:
        """The article's quotes decoded from its analysis, with ``decoding`` instead of the checkpoint's when
        given; ``calibrated=False`` reports raw scores (and applies ``min_quote_score`` to them);
        ``keep_quotes`` links the article's own quotes instead."""
        given = article.quotes if keep_quotes else None
        if not analysis.windows:
            return Article(article.id, article.text, article.meta, [Quote(list(q.spans), q.type) for q in given or []])
        decoding = decoding or self.decoding
        calibration = (self.settings.get("calibration") or {}) if calibrated else {}
        logits = merge_window_logits(len(analysis.tokens.ids), analysis.windows, analysis.logits)
        spans = decode_roles(article.text, analysis.tokens, logits, decoding, self.transitions)
        choose = self._linker_choice(analysis.tokens, analysis.hidden)
        attributed = assemble_article(
            article,
            analysis.tokens,
            analysis.windows,
            spans,
            choose,
            decoding,
            given=given,
            context=lambda: analysis.named_mentions(article.text),
            join=self._joiner(analysis) if self.linker.joiner is not None else None,
        )
        log_probs = log_probabilities(logits)
        kept = []
        for quote in attributed.quotes:
            if given is None:
                raw = quote_score(
                    log_probs, [r for r in (token_range(analysis.tokens.offsets, s) for s in quote.spans) if r]
                )
                quote.score = calibrate(raw, calibration.get("score"))
                if quote.score < decoding.min_quote_score:
                    continue  # the least sure quotes cost more precision than they bring recall
            if quote.speaker_score is not None:
                quote.speaker_score = calibrate(quote.speaker_score, calibration.get("speaker_score"))
            kept.append(quote)
        return Article(attributed.id, attributed.text, attributed.meta, kept, entities_from_quotes(kept))

    def _linker_choice(self, tokens: ArticleTokens, hidden: list[torch.Tensor]):
        """A source and cue chooser backed by the linker: one batched call scores every window's quotes against that
        window's sources (and, when the linker has the option, the previous quote's speaker), and, when it has a cue
        scorer, against that window's cues (else each quote takes ``NEAREST_CUE``); each source comes with the
        linker's probability for it."""
        previous_option, cue_scorer = self.linker.previous_speaker, self.linker.cue_scorer
        no_cue = None if cue_scorer is not None else NEAREST_CUE

        @torch.inference_mode()
        def choose(requests: list[LinkRequest]) -> list[list[Link]]:
            answers = [[(None, None, no_cue)] * len(r.quotes) for r in requests]
            linked = [
                (n, r)
                for n, r in enumerate(requests)
                if r.candidates or (previous_option and any(r.previous)) or (cue_scorer is not None and r.cues)
            ]
            if not linked:
                return answers
            bounds = [r.bounds for _, r in linked]
            states, paragraphs = window_inputs(tokens, hidden, [r.window for _, r in linked], bounds)
            contents, _ = window_spans([r.quotes for _, r in linked], bounds, states.device)
            previous, _ = window_spans([[p or (0, 0) for p in r.previous] for _, r in linked], bounds, states.device)
            sources, source_mask = window_spans([r.candidates for _, r in linked], bounds, states.device)
            scores = self.linker(states, contents, sources, source_mask, paragraphs, previous)
            best, chosen = scores.float().softmax(-1).max(-1)
            cues = [[no_cue] * len(r.quotes) for _, r in linked]
            if cue_scorer is not None:
                spans, mask = window_spans([r.cues for _, r in linked], bounds, states.device)
                columns = cue_scorer(states, contents, spans, mask, paragraphs).argmax(-1).tolist()
                cues = [[r.cues[c - 1] if c else None for c in row] for row, (_, r) in zip(columns, linked)]
            first = self.linker.first_source
            for row, (n, r) in enumerate(linked):
                answers[n] = [
                    (None if b == 0 else PREVIOUS if b < first else r.candidates[b - first], p, cue)
                    for b, p, cue in zip(chosen[row].tolist(), best[row].tolist(), cues[row])
                ]
            return answers

        return choose

    def _joiner(self, analysis: Analysis):
        """A scorer of consecutive content fragments backed by the linker's joiner: each pair is scored in the
        window where the gap between them sits most centrally, both fragments cut to it (``joiner_pair``, as in
        training), one batched call for all; a pair whose gap no window holds scores 0."""
        windows = analysis.windows

        @torch.inference_mode()
        def join(pairs: list[tuple[Span, Span]]) -> list[float]:
            probabilities = [0.0] * len(pairs)
            placed: dict[int, list[tuple[int, tuple[int, int, int, int]]]] = {}
            for index, (left, right) in enumerate(pairs):
                window = central_window(windows, left[1] - 1, right[0] + 1)
                cut = joiner_pair(left, right, windows[window])
                if cut is not None:
                    placed.setdefault(window, []).append((index, cut))
            if not placed:
                return probabilities
            device = analysis.hidden[0].device
            width = max(len(cuts) for cuts in placed.values())
            rows = [
                [[p - windows[w][0] + 1 for p in cut] for _, cut in cuts] + [[0, 1, 1, 2]] * (width - len(cuts))
                for w, cuts in placed.items()
            ]  # window positions: [CLS] comes first
            states, paragraphs = window_inputs(
                analysis.tokens, analysis.hidden, list(placed), [windows[w] for w in placed]
            )
            logits = self.linker.joiner(states, torch.tensor(rows, device=device), paragraphs)
            scores = logits.float().sigmoid().tolist()
            for row, cuts in enumerate(placed.values()):
                for column, (index, _) in enumerate(cuts):
                    probabilities[index] = scores[row][column]
            return probabilities

        return join


def window_spans(
    spans: list[list[Span]], bounds: list[Span], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each window's token spans as its positions ([CLS] comes first; clipped to the window, at least one token; a
    (0, 0) span stays [0, 0]: none), padded into one [W, N, 2] batch, and the mask of the real ones ([W, N])."""

    def position(span: Span, window: Span) -> list[int]:
        if span == (0, 0):
            return [0, 0]
        start = max(span[0], window[0])
        return [start - window[0] + 1, max(min(span[1], window[1]), start + 1) - window[0] + 1]

    width = max(1, max(len(row) for row in spans))
    positions = [[position(span, b) for span in row] + [[0, 0]] * (width - len(row)) for row, b in zip(spans, bounds)]
    mask = torch.arange(width) < torch.tensor([len(row) for row in spans]).unsqueeze(1)
    return torch.tensor(positions, dtype=torch.long, device=device), mask.to(device)


def window_inputs(
    tokens: ArticleTokens, hidden: list[torch.Tensor], chosen: list[int], bounds: list[Span]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The chosen windows' hidden states and the paragraph index of each of their positions, padded into one batch
    for the linker's scorers ([W, T, H] and [W, T])."""
    states = pad_sequence([hidden[window][0] for window in chosen], batch_first=True)
    paragraphs = [torch.tensor(window_paragraphs(tokens, *window)) for window in bounds]
    return states, pad_sequence(paragraphs, batch_first=True).to(states.device)


def articles_per_pass(batch_size: int) -> int:
    """Articles whose windows are batched together: enough to fill the batches and leave few part-filled
    (memory grows with it: the encoder's states of every window in the group are held until it is decoded)."""
    return max(16, 2 * batch_size)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items, read lazily (an input stream is never held whole)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
