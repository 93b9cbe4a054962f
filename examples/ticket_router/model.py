"""The ticket router's offline model: TF-IDF features and a logistic-regression classifier.

Trained with scikit-learn on the BANKING77 training split at first use and cached under
``.warden/models/`` (keyed by the training data's SHA-256, the settings and the
scikit-learn version), so later runs load it in well under a second. Word 1-2-grams plus
character 2-5-grams, ``LogisticRegression(C=20)``: about 91 % accuracy on the test split
and about 12 s of training on the 2-core machine (``bench/README.md``).

Its answer is a structured decision, a queue and a confidence (the predicted class's
probability), as an LLM's structured output would be; the agent escalates below the
spec's ``escalation.confidence_threshold``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pickle
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MODEL_NAME", "IntentClassifier", "Prediction"]

MODEL_NAME = "banking77-tfidf-logreg"
"""Recorded as the model of each model call (offline: no tokens are billed)."""

_SETTINGS: dict[str, Any] = {
    "word_ngrams": [1, 2],
    "char_ngrams": [2, 5],
    "char_min_df": 3,
    "char_max_features": 60000,
    "C": 20.0,
    "max_iter": 300,
    "tol": 1e-3,
}


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's structured decision for one ticket.

    Attributes:
        queue: The intent (queue) it routes to.
        confidence: Probability of that intent, in [0, 1].
    """

    queue: str
    confidence: float


def _sklearn(module: str) -> Any:
    """A scikit-learn module (untyped, so it is used as ``Any``)."""
    return importlib.import_module(f"sklearn{module}")


class IntentClassifier:
    """A fitted classifier from ticket text to one of the intents.

    Build it with ``IntentClassifier.trained(...)``.
    """

    def __init__(self, pipeline: Any, *, key: str, trained_on: int) -> None:
        self._pipeline = pipeline
        self._classes: list[str] = [str(c) for c in pipeline.classes_]
        self.key = key
        """Cache key: what the model was trained on and how."""
        self.trained_on = trained_on
        """Training examples used."""
        self._memo: dict[str, Prediction] = {}

    @classmethod
    def trained(
        cls,
        texts: list[str],
        labels: list[str],
        *,
        data_sha256: str,
        cache_dir: Path | None = Path(".warden/models"),
        fraction: float = 1.0,
        seed: int = 0,
    ) -> IntentClassifier:
        """Load the cached model for this data and these settings, or train and cache it.

        Args:
            texts: Training texts.
            labels: Their intents.
            data_sha256: SHA-256 of the training file (part of the cache key).
            cache_dir: Where fitted models are kept; None: never cache.
            fraction: Share of the training split to use (a stratified-by-chance sample
                with ``seed``), e.g. 0.1 for a deliberately weaker model.
            seed: Seed of that sample.

        Raises:
            ImportError: scikit-learn is not installed (``pip install warden[demo]``).
        """
        text, linear, pipelines = (
            _sklearn(".feature_extraction.text"),
            _sklearn(".linear_model"),
            _sklearn(".pipeline"),
        )
        settings = {**_SETTINGS, "fraction": fraction, "seed": seed}
        blob = json.dumps(
            {"data": data_sha256, "settings": settings, "sklearn": str(_sklearn("").__version__)},
            sort_keys=True,
        )
        key = hashlib.sha256(blob.encode()).hexdigest()[:16]
        path = cache_dir / f"{MODEL_NAME}-{key}.pkl" if cache_dir is not None else None
        if path is not None and path.is_file():
            with path.open("rb") as f:
                pipeline = pickle.load(f)  # our own cache file, written below
            return cls(pipeline, key=key, trained_on=int(pipeline.trained_on_))
        pairs = list(zip(texts, labels, strict=True))
        if fraction < 1.0:
            pairs = random.Random(seed).sample(pairs, max(1, round(len(pairs) * fraction)))
        pipeline: Any = pipelines.make_pipeline(
            pipelines.make_union(
                text.TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                text.TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=_SETTINGS["char_min_df"],
                    max_features=_SETTINGS["char_max_features"],
                ),
            ),
            linear.LogisticRegression(
                C=_SETTINGS["C"], max_iter=_SETTINGS["max_iter"], tol=_SETTINGS["tol"]
            ),
        )
        pipeline.fit([t for t, _ in pairs], [c for _, c in pairs])
        pipeline.trained_on_ = len(pairs)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as f:
                pickle.dump(pipeline, f)
            tmp.replace(path)
        return cls(pipeline, key=key, trained_on=len(pairs))

    def predict(self, text: str) -> Prediction:
        """The most likely queue for ``text`` and its probability."""
        memo = self._memo.get(text)
        return memo if memo is not None else self.predict_many([text])[0]

    def prefetch(self, texts: list[str]) -> None:
        """Classify ``texts`` in one batch now, so ``predict`` answers them from memory
        (scikit-learn spends ~6 ms per single-text call, ~0.1 ms per text in a batch).
        The answers are the same either way."""
        self._memo.update(zip(texts, self.predict_many(texts), strict=True))

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        """``predict`` for many texts at once (one matrix product: much faster)."""
        probabilities: Any = self._pipeline.predict_proba(texts)
        best: list[int] = [int(i) for i in probabilities.argmax(axis=1)]
        return [
            Prediction(queue=self._classes[i], confidence=float(probabilities[row, i]))
            for row, i in enumerate(best)
        ]
