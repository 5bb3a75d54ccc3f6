"""Peak memory (resident set size) of `seqlab-spec run --no-notebook` for each CPU spec (specs/*_cpu.yaml and
specs/quickstart.yaml), with a tiny step count: train.max_steps=3 on the spec's own data, model, batch and
evaluation (dev/test as the spec says, so evaluation memory is included). A sweep spec runs its first setting.

Peak RSS is the kernel's high-water mark for the child process (os.wait4 -> ru_maxrss), next to that of an
interpreter that only imports torch and transformers (the floor every run pays). Memory does not depend on
the machine's load, so there is no alternation here; the numbers are absolute.

    .venv/bin/python benchmarks/memory.py --steps 3
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from seqlab_spec.models.tiny import save_tiny_encoder  # noqa: E402


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=3, help="train.max_steps of every run")
    p.add_argument("--specs", nargs="*", default=None, help="spec files (default: specs/*_cpu.yaml + quickstart)")
    return common.parse(p, argv, __file__)


def peak_rss_mib(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    """(peak RSS in MiB, exit status, output tail) of a child process."""
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        tail = "\n".join(log.read().splitlines()[-10:])
    return usage.ru_maxrss / 1024, proc.returncode, tail  # ru_maxrss is in KiB on Linux


def first_setting(spec_file: Path, overrides: list[str], dest: Path) -> tuple[Path, str]:
    """The spec's first run (a sweep's first combination) as its own YAML file; returns it and its name."""
    import yaml

    from seqlab_spec.runner.sweep import expand
    from seqlab_spec.spec.load import load_spec

    spec = expand(load_spec(spec_file, overrides))[0]
    dest.write_text(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))
    return dest, spec.name


def default_specs() -> list[Path]:
    specs = common.ROOT / "specs"
    return sorted(specs.glob("*_cpu.yaml")) + [specs / "quickstart.yaml"]


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    tmp = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    env = dict(os.environ)
    sets = [f"train.max_steps={args.steps}", "run.notebook=null"]
    files = [Path(s) for s in args.specs] if args.specs else default_specs()
    if args.tiny:
        files = [common.spec_path("quickstart.yaml")]
        sets += [
            f"model.name={save_tiny_encoder(tmp / 'tiny-bert')}",
            "data.limit.train=16",
            "data.limit.dev=8",
            "data.limit.test=8",
            "train.max_steps=1",
        ]
    floor_mib, _, _ = peak_rss_mib([sys.executable, "-c", "import torch, transformers"], env, common.ROOT)
    rows: dict[str, Any] = {}
    for f in files:
        resolved, name = first_setting(f, sets, tmp / f"{f.stem}.yaml")
        cmd = [sys.executable, "-m", "seqlab_spec.cli", "run", str(resolved), "--no-notebook", "--out", str(tmp)]
        print(f"{f.name}: {name}", flush=True)
        mib, rc, tail = peak_rss_mib(cmd, env, common.ROOT)
        rel = str(f.resolve().relative_to(common.ROOT)) if f.resolve().is_relative_to(common.ROOT) else str(f)
        rows[rel] = {"run": name, "peak_rss_mib": round(mib, 1), "exit_status": rc}
        if rc != 0:
            rows[rel]["error_tail"] = tail
        print(f"  peak RSS {mib:.0f} MiB (exit {rc})", flush=True)
    results = {
        "max_steps": args.steps if not args.tiny else 1,
        "note": "tiny step counts (train.max_steps) on each spec's data, model, batch and evaluation splits",
        "floor_import_torch_transformers_mib": round(floor_mib, 1),
        "specs": rows,
    }
    common.write_result("memory", args, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
