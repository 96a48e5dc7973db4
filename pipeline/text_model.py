"""A trained ailab model as an MLflow pyfunc model: `predict(["Once upon a time"])` returns the generated text.

MLflow logs it as a model from code: this file is copied into the logged model (`python_model`) with the `ailab`
package (`code/ailab`) and the safetensors model directory (`artifacts/model_dir`), and is run when the model loads;
its last line hands MLflow the model object. Nothing is pickled: loading reads the safetensors weights and the
tokenizer files, as `ailab.models.from_pretrained` and `ailab.tokenizers.load_tokenizer` do. Needs torch, the
tokenizer libraries and mlflow where it loads.
"""

from __future__ import annotations

import os
from typing import Any

import mlflow
from mlflow.pyfunc import PythonModel

MODEL_DIR_ARTIFACT = "model_dir"


def prompts_of(model_input: Any) -> list[str]:
    """The prompts in a pyfunc input: a DataFrame's or Series' first column, a list of strings, or one string."""
    if isinstance(model_input, str):
        return [model_input]
    if hasattr(model_input, "iloc"):
        column = model_input.iloc[:, 0] if getattr(model_input, "ndim", 1) == 2 else model_input
        return [str(prompt) for prompt in column.tolist()]
    return [str(prompt) for prompt in model_input]


class TextGenerator(PythonModel):
    """Continues each prompt with the model in the `model_dir` artifact; sampling settings come as pyfunc params."""

    def load_context(self, context: Any) -> None:
        from ailab.device import resolve_device
        from ailab.models import from_pretrained
        from ailab.tokenizers import load_tokenizer

        model_dir = context.artifacts[MODEL_DIR_ARTIFACT]
        device = resolve_device(os.environ.get("AILAB_DEVICE", "auto"))
        self.model = from_pretrained(model_dir, device=device).eval()
        self.tokenizer = load_tokenizer(model_dir)

    def predict(self, context, model_input, params=None):  # no type hints: MLflow would derive the signature from them
        """One continuation per prompt (without the prompt); params: max_new_tokens, temperature, top_k, top_p, seed."""
        from ailab.generation import generate_text

        settings = dict(params or {})
        settings["top_k"] = settings.get("top_k") or None  # 0 in the signature means off
        return [generate_text(self.model, self.tokenizer, prompt, **settings) for prompt in prompts_of(model_input)]


mlflow.models.set_model(TextGenerator())
