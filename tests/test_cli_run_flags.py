"""`seqlab-spec run` flag combinations that must be refused before anything runs."""

from __future__ import annotations

import pytest
from conftest import ROOT

from seqlab_spec import cli

QUICK = str(ROOT / "specs" / "quickstart.yaml")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", QUICK, "--launcher", "torchrun", "--nproc", "2"],
            "--launcher torchrun runs the pipeline without papermill",
        ),
        (["run", QUICK, "--nproc", "2"], "--nproc and --accelerate-config apply with --launcher torchrun"),
        (["run", QUICK, "--force"], "--force only applies with --resume RUN_DIR"),
    ],
)
def test_refused_flag_combinations(argv: list[str], message: str, capsys, tmp_path) -> None:
    assert cli.main([*argv, "--out", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir()), "nothing is written"
