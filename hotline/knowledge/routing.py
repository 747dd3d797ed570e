"""Routing assist (智能派单辅助): the departments most likely to handle an order, learnt from
the county's own closed orders. Advisory only: the routing rules (dispatch) and the agent
decide; the assist shows its top three with a confidence and says how often it was right
on orders it had not seen (top-1 / top-3 on a held-out split).

The model is scikit-learn's logistic regression over two kinds of features: character
1–3-grams of the text (no segmentation needed, robust to typos and new words) and the
order's category, subject, subject group and area as tokens. Pure: data in, a model out.
"""

from __future__ import annotations

import pickle
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class Sample:
    text: str
    category: str | None
    subject: str | None
    area: str | None
    department: str | None = None  # the label: who handled it


@dataclass(frozen=True)
class Evaluation:
    trained_on: int
    tested_on: int
    top1: float
    top3: float
    departments: int


def texts(rows: Sequence[Sample]) -> list[str]:
    return [r.text for r in rows]


def meta(rows: Sequence[Sample]) -> list[str]:
    out = []
    for r in rows:
        group = (r.subject or "").split("-")[0] if r.subject else ""
        out.append(" ".join(f"{k}={v}" for k, v in (("cat", r.category), ("subj", r.subject), ("grp", group),
                                                    ("area", r.area)) if v))
    return out


def _pipeline() -> object:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    features = FeatureUnion([
        ("text", make_pipeline(FunctionTransformer(texts),
                               TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                               max_features=50_000))),
        ("meta", make_pipeline(FunctionTransformer(meta),
                               TfidfVectorizer(token_pattern=r"\S+", lowercase=False))),
    ])
    return make_pipeline(features, SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=30, tol=None, random_state=0))


class RoutingModel:
    """A trained classifier and what it knows."""

    def __init__(self, pipeline: object, evaluation: Evaluation) -> None:
        self.pipeline = pipeline
        self.evaluation = evaluation

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]  # type: ignore[attr-defined]

    def top(self, rows: Sequence[Sample], k: int = 3) -> list[list[tuple[str, float]]]:
        """For each row, the k likeliest departments and their probability."""
        probs = self.pipeline.predict_proba(list(rows))  # type: ignore[attr-defined]
        classes = self.classes
        out = []
        for p in probs:
            best = np.argsort(p)[::-1][:k]
            out.append([(classes[i], float(p[i])) for i in best])
        return out

    def dumps(self) -> bytes:
        return pickle.dumps(self)

    @staticmethod
    def loads(blob: bytes) -> RoutingModel:
        # Only models this process's own command trained and stored are ever loaded.
        model = pickle.loads(blob)
        if not isinstance(model, RoutingModel):
            raise TypeError("not a routing model")
        return model


def _score(model: RoutingModel, rows: Sequence[Sample]) -> tuple[float, float]:
    if not rows:
        return 0.0, 0.0
    tops = model.top(rows, 3)
    top1 = sum(t[0][0] == r.department for t, r in zip(tops, rows, strict=True)) / len(rows)
    top3 = sum(r.department in [d for d, _ in t] for t, r in zip(tops, rows, strict=True)) / len(rows)
    return top1, top3


SEED = 12345


def split(rows: Sequence[Sample], holdout: float, seed: int = SEED) -> tuple[list[Sample], list[Sample]]:
    """The labelled rows, shuffled the same way each time: (to fit on, held out)."""
    order = [r for r in rows if r.department]
    random.Random(seed).shuffle(order)
    cut = max(1, int(len(order) * holdout))
    return order[cut:], order[:cut]


def train(rows: Sequence[Sample], *, holdout: float = 0.2, seed: int = SEED) -> RoutingModel:
    """Fit on (1 - holdout) of the rows, measure on the rest, then fit again on all of them
    (the figures are the held-out ones: what a new order can expect)."""
    fit, test = split(rows, holdout, seed)
    order = fit + test
    if len(order) < 20 or len({r.department for r in order}) < 2:
        raise ValueError(f"too little history to learn from: {len(order)} closed orders")
    pipe = _pipeline()
    pipe.fit(fit, [r.department for r in fit])  # type: ignore[attr-defined]
    top1, top3 = _score(RoutingModel(pipe, Evaluation(len(fit), 0, 0, 0, 0)), test)
    final = _pipeline()
    final.fit(order, [r.department for r in order])  # type: ignore[attr-defined]
    return RoutingModel(final, Evaluation(len(fit), len(test), top1, top3, len({r.department for r in order})))
