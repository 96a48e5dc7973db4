"""ailab: GPT-2 and LLaMA language models built from scratch, with their tokenizers, data, trainer and generation.

The library is plain PyTorch: it never imports dvc, mlflow or typer, so it works in a notebook as in the pipeline.
"""

__version__ = "0.1.0"
