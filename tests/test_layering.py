"""The library never imports the pipeline's tools: `import ailab` works in any notebook."""

import subprocess
import sys

MODULES = [
    "ailab.models", "ailab.models.hf", "ailab.tokenizers", "ailab.datasets", "ailab.trainers", "ailab.generation",
    "ailab.evaluation", "ailab.io", "ailab.device",
]  # fmt: skip


def test_ailab_imports_no_dvc_mlflow_or_typer():
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "import ailab.datasets as d; d.PackedWindowDataset, d.load_corpus, d.generate_builtin_corpus\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dvc', 'mlflow', 'typer', 'pipeline', 'stages'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
