"""The results of the `inspect` views: what each view's command computes (cli/inspect/) and its
renderer draws (cli/render/), each with one `to_dict()`, its JSON (docs/json.md). The results of
one checkpoint reading one text begin with the fields of `OneCheckpoint`; those that show the
text character by character (score, neurons) with those of `ShownText`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from charrnn.analysis.gradient_reach import GradientCurve
    from charrnn.analysis.neurons import NeuronSearch, Unit
    from charrnn.analysis.novelty import Novelty
    from charrnn.analysis.passages import Passages
    from charrnn.analysis.ranking import Ranking
    from charrnn.analysis.scoring import Score
    from charrnn.analysis.typos import Suspect
    from charrnn.config import ModelConfig


class Result(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


@dataclass
class OneCheckpoint:
    """A view of one checkpoint reading one text: its JSON opens with these."""

    checkpoint: str
    text: str  # its path, or - for standard input

    def json(self, view: str, **fields: Any) -> dict[str, Any]:
        """The view's JSON: its name, the checkpoint and the text, then its own `fields` in order."""
        return {"view": view, "checkpoint": self.checkpoint, "text": self.text, **fields}


@dataclass
class ShownText(OneCheckpoint):
    """A view that shows the text, or its first characters, one by one, with the score of all of it;
    its JSON ends with the page written."""

    shown: str  # the text, or its first characters: those whose numbers were kept
    score: Score  # over the whole text, with the surprisal of the characters of `shown`
    html: str | None = field(default=None, kw_only=True)  # the page written, if any

    @property
    def length(self) -> int:
        """The whole text's characters."""
        return self.score.length

    @property
    def cut(self) -> bool:
        """Whether `shown` is only the text's first characters."""
        return len(self.shown) < self.length

    def json(self, view: str, **fields: Any) -> dict[str, Any]:
        return super().json(view, **fields, html=self.html)


@dataclass
class ScoreView(ShownText):
    passages: Passages  # the whole text's most and least surprising lines

    def to_dict(self) -> dict:
        return self.json(
            "score", score=self.score.to_dict(), shown_chars=len(self.shown), passages=self.passages.to_dict()
        )


@dataclass
class NeuronView(ShownText):
    unit: Unit
    values: np.ndarray  # the unit's activation after each character of `shown`

    def to_dict(self) -> dict:
        neuron = {**asdict(self.unit), "label": self.unit.label, "values": self.values}
        return self.json("neurons", neuron=neuron, score=self.score.to_dict())


@dataclass
class FindNeuronsView(OneCheckpoint):
    search: NeuronSearch

    def to_dict(self) -> dict:
        return self.json("find-neurons", **self.search.to_dict())


@dataclass
class ModelCurve:
    checkpoint: str
    model: str  # e.g. LSTM, 2 x 256
    curve: GradientCurve


@dataclass
class GradientsView:
    text: str  # its path, or - for standard input
    models: list[ModelCurve]

    def to_dict(self) -> dict:
        return {
            "view": "gradients",
            "text": self.text,
            "models": [{"checkpoint": m.checkpoint, "model": m.model, **m.curve.to_dict()} for m in self.models],
        }


@dataclass
class CompareView:
    text: str  # its path, or - for standard input
    ranking: Ranking

    def to_dict(self) -> dict:
        return {"view": "compare", "text": self.text, **self.ranking.to_dict()}


@dataclass
class NoveltyView(OneCheckpoint):
    corpus: dict  # the training corpus's record: name, bytes, chars, sha256, path
    shown: str  # the text read
    novelty: Novelty  # its copied spans

    def to_dict(self) -> dict:
        return self.json("novelty", corpus=self.corpus, novelty=self.novelty.to_dict())


@dataclass
class TyposView(OneCheckpoint):
    source: str  # the text read
    suspects: list[Suspect]  # most suspect first
    far: float  # bits a suspect's replacement saves, at least
    html: str | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict:
        suspects = [s.to_dict() for s in self.suspects]
        return self.json("typos", chars=len(self.source), far_bits=self.far, suspects=suspects, html=self.html)


@dataclass
class Facts:
    """The facts view's result (`charrnn inspect` alone): Checkpoint.to_dict()'s data, and the checkpoint's
    model, which the view names in one line."""

    data: dict[str, Any]
    model: ModelConfig

    def to_dict(self) -> dict[str, Any]:
        return self.data
