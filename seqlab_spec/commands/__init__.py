"""Subcommands of `seqlab-spec`, one module each (the module name is the command name).

Each module exposes `add_parser(subparsers) -> argparse.ArgumentParser` (adds and returns its
subparser) and `run(args) -> int` (the exit status). cli.COMMANDS lists them; a listed module that
does not exist yet is skipped. Keep module-level imports light (no torch): `seqlab-spec validate`
imports only the module it runs.
"""
