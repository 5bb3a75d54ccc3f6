"""The runner: a spec -> its run folder(s). Sweep expansion, the checks before any run folder exists
(preflight), the notebook or pipeline execution, the run folder itself, --resume, torchrun launches
and comparison reports.

Import a module by its full path (`from seqlab_spec.runner.<module> import ...`): this file imports none of
them, so loading one never loads the others (torch, papermill) nor closes an import cycle.
"""
