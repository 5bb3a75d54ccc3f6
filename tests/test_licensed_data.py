"""The licensed corpora (read from $SEQLAB_DATA, never from a folder guessed beside the project): where the
variable is set they load with their published sizes; where it is unset a spec that needs them says so."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT, needs_data


@needs_data
def test_conll2003_loads_with_its_published_sentence_and_token_counts() -> None:
    from seqlab_spec.pipelines.common import prepare_data
    from seqlab_spec.spec.load import load_spec

    splits = prepare_data(load_spec(ROOT / "specs" / "encoder_conll03_cpu.yaml")).splits
    assert {k: (len(v), sum(len(s.tokens) for s in v)) for k, v in splits.items()} == {
        "train": (14041, 203621),
        "dev": (3250, 51362),
        "test": (3453, 46435),
    }


def test_without_seqlab_data_a_spec_on_licensed_corpora_says_how_to_set_it() -> None:
    """Runs whether or not SEQLAB_DATA is set here (CI sets it, and keeps a data folder beside the project):
    the child process has it unset and must not find any data folder by itself."""
    env = {k: v for k, v in os.environ.items() if k != "SEQLAB_DATA"}
    spec = ROOT / "specs" / "encoder_conll03_cpu.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "seqlab_spec.cli", "validate", str(spec)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert (
        f"{spec}:7:10  data.train  ${{SEQLAB_DATA}} is not set: this spec reads corpora that are not "
        "redistributed; export SEQLAB_DATA=/path/to/your/copies (the folder holding conll2003/, ...)"
    ) in done.stderr + done.stdout
