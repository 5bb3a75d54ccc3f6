"""The course kit: student versions of the teaching notebooks (release), autograding of submissions (grade).

Exercise convention the kit relies on (see notebooks/src/01_encoder_baseline.py): a student cell with a
`# TODO` stub, then a cell tagged `solution` holding the reference inside `if solutions:`, then a cell
tagged `check` that calls `seqlab_spec.notebook.check(condition, message)`.
"""
