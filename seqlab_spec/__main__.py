"""`python -m seqlab_spec ...` is `seqlab-spec ...`."""

from .cli import main

raise SystemExit(main())
