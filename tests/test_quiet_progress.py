"""Saving and loading models inside the library print no progress bars; the user's setting is left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers.utils import logging as hf_logging

from seqlab_spec.models.registry import from_pretrained, quiet_progress, resolve


@pytest.fixture()
def bars_on():
    was = hf_logging.is_progress_bar_enabled()
    hf_logging.enable_progress_bar()
    yield
    (hf_logging.enable_progress_bar if was else hf_logging.disable_progress_bar)()


def test_save_and_load_print_no_progress_bars(tmp_path: Path, capfd, bars_on) -> None:
    from transformers import AutoModelForTokenClassification

    from seqlab_spec.models.tiny import save_tiny_encoder

    path = save_tiny_encoder(tmp_path / "enc")
    model = AutoModelForTokenClassification.from_pretrained(path, num_labels=3)
    model.save_pretrained(tmp_path / "plain")
    assert "Writing model shards" in capfd.readouterr().err  # what the log showed at every checkpoint
    with quiet_progress():
        model.save_pretrained(tmp_path / "quiet")
    loaded = from_pretrained(AutoModelForTokenClassification.from_pretrained, resolve(str(tmp_path / "quiet")))
    err = capfd.readouterr().err
    assert "Writing model shards" not in err and "Loading weights" not in err and loaded.num_labels == 3
    assert hf_logging.is_progress_bar_enabled()  # restored: the user's own bars are untouched


def test_user_setting_is_restored(bars_on) -> None:
    import huggingface_hub.utils as hub_utils

    with quiet_progress():
        assert not hf_logging.is_progress_bar_enabled() and hub_utils.are_progress_bars_disabled()
    assert hf_logging.is_progress_bar_enabled() and not hub_utils.are_progress_bars_disabled()
    hf_logging.disable_progress_bar()
    with quiet_progress():
        pass
    assert not hf_logging.is_progress_bar_enabled() and hub_utils.are_progress_bars_disabled()


def test_training_runs_without_progress_bars(tmp_path: Path, bars_on) -> None:
    """Checkpoints are saved (and the best model reloaded) inside trainer.train(): train_resumable quiets it."""
    from types import SimpleNamespace

    from seqlab_spec.training.train import train_resumable

    class Recorder:  # what train_resumable touches of a Trainer: its arguments, callbacks and train()
        seen: list[bool] = []
        args = SimpleNamespace(report_to=[])
        callback_handler = SimpleNamespace(callbacks=[])

        def train(self, resume_from_checkpoint=None) -> None:
            self.seen.append(hf_logging.is_progress_bar_enabled())

    trainer = Recorder()
    train_resumable(trainer, tmp_path / "checkpoints")
    assert trainer.seen == [False] and hf_logging.is_progress_bar_enabled()
