"""Training: the Trainer wiring every method shares (features, batch order, precision, checkpoints,
tracking) and whether a spec's model fits this machine's memory.

Import a module by its full path (`from seqlab_spec.training.<module> import ...`): this file imports none of
them, so loading one never loads the others (torch, papermill) nor closes an import cycle.
"""
