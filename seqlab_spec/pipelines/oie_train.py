"""Method `oie-multitask`, its training: the stages of a regime in turn (few-shot: source, then target), each
continuing the model the last one trained, each one Trainer (`train.build_trainer`) with its own checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..evaluation.scores import plural
from ..spec import Spec
from .oie_data import Stage, TransferData, features, mlm_batches, unlabeled_text

if TYPE_CHECKING:
    from ..models.oie_tagger import OieTagger


@dataclass
class Fitted:
    """The trained tagger and each stage's Trainer log (steps continue across stages in `log`)."""

    model: Any
    logs: list[tuple[str, list[dict]]] = field(default_factory=list)

    @property
    def log(self) -> list[dict]:
        rows, offset = [], 0
        for stage, history in self.logs:
            last = 0
            for r in history:
                row = {**r, "stage": stage}
                if "step" in row:
                    last = max(last, row["step"])
                    row["step"] = row["step"] + offset
                rows.append(row)
            offset += last
        return rows


def fit_stage(
    spec: Spec,
    model: OieTagger,
    tokenizer,
    data: TransferData,
    stage: Stage,
    out: Path,
    resumable: bool = False,
) -> tuple[OieTagger, list[dict]]:
    """Train one stage with the Trainer (best `stage.dev` epoch loaded back, when there is one); checkpoints
    removed after. `resumable`: full checkpoints each epoch, and training continues from the last complete one
    found in `out` (`seqlab-spec run --resume`). Returns the trained tagger and the stage's log."""
    from ..models.oie_tagger import MlmMixCollator, OieCollator, OieTaggerWithMlm
    from ..training.train import build_trainer, log_history, set_seed, train_resumable

    set_seed(spec.train.seed)
    train = features(spec, tokenizer, data, stage.train)
    dev = features(spec, tokenizer, data, data.splits[stage.dev]) if stage.dev else None
    collator: Any = OieCollator(tokenizer, rel_pad_id=model.rel_pad_id, pad_to_multiple_of=8)
    net: Any = model
    if spec.method.mlm:
        net = OieTaggerWithMlm(model)
        collator = MlmMixCollator(collator, mlm_batches(spec, tokenizer, unlabeled_text(spec, data)))
    trainer = build_trainer(
        spec, net, tokenizer, train, dev, data.labels, out, collator=collator, resumable=resumable,
        label_names=["labels"],
    )
    print(f"stage {stage.name}: {plural(len(train), 'sentence')}, select on {stage.dev or 'nothing (last weights)'}")
    train_resumable(trainer, out, resume=resumable)
    trained = trainer.model.tagger if spec.method.mlm else trainer.model
    return trained, log_history(trainer)


def stage_checkpoints(run_dir: Path, data: TransferData) -> list[Path]:
    """Each stage's checkpoint folder: `checkpoints` for the first, `checkpoints-<stage>` for later ones."""
    from ..training.train import CHECKPOINTS

    names = [CHECKPOINTS if i == 0 else f"{CHECKPOINTS}-{st.name}" for i, st in enumerate(data.stages)]
    return [Path(run_dir) / n for n in names]


def fit(spec: Spec, model: OieTagger, tokenizer, data: TransferData, run_dir: Path) -> Fitted:
    """Every stage of the regime in order (few-shot: source, then target), each continuing the last.

    Resumable like the tagger's fit: a run folder whose training was cut off continues from the last complete
    checkpoint of the latest stage that has one; the stages before it are skipped, since that checkpoint
    holds the whole model (their logs are then absent from train_log.jsonl). The masked-LM text order is not
    restored.
    """
    from ..training.checkpoints import last_checkpoint

    fitted = Fitted(model)
    folders = stage_checkpoints(run_dir, data)
    start = max((i for i, f in enumerate(folders) if last_checkpoint(f) is not None), default=0)
    for i, (stage, folder) in enumerate(zip(data.stages, folders, strict=True)):
        if i < start:
            print(f"stage {stage.name}: skipped; {data.stages[start].name} resumes from {folders[start]}")
            continue
        fitted.model, history = fit_stage(spec, fitted.model, tokenizer, data, stage, folder, resumable=True)
        fitted.logs.append((stage.name, history))
    return fitted
