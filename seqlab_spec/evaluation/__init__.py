"""Evaluation: span scores (both readings, equal to seqeval), batched inference in memory and from a
run folder's model (`seqlab-spec predict`), and the plots of scores and learning curves.

Import a module by its full path (`from seqlab_spec.evaluation.<module> import ...`): this file imports none of
them, so loading one never loads the others (torch, papermill) nor closes an import cycle.
"""
