"""`ailab train-tokenizer` with `tokenizer.kind: tinystories-bpe-8k` saves the shipped tokenizer, trains nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ailab.tokenizers import TinyStoriesBpe8kTokenizer, load_tokenizer
from ailab.tokenizers.bpe import PRETRAINED_TINYSTORIES_FILE

ROOT = Path(__file__).resolve().parents[2]


def test_pretrained_kind_writes_the_shipped_tokenizer(tmp_path):
    if shutil.which("ailab") is None:
        pytest.fail("the ailab console script must be installed: pip install -e '.[dev]'")
    params = {"data": {"num_stories": 30}, "tokenizer": {"kind": "tinystories-bpe-8k", "vocab_size": None}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        ["ailab", "train-tokenizer", "--params", "params.yaml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing to train" in proc.stdout
    saved = tmp_path / "artifacts" / "tokenizer"
    assert (saved / "tokenizer.json").read_bytes() == PRETRAINED_TINYSTORIES_FILE.read_bytes()
    loaded = load_tokenizer(saved)
    assert type(loaded) is TinyStoriesBpe8kTokenizer
    stats = json.loads((tmp_path / "reports" / "tokenizer" / "stats.json").read_text())
    assert stats["vocab_size"] == 8192 and stats["fingerprint"] == TinyStoriesBpe8kTokenizer().fingerprint()
    assert stats["chars_per_token"] > 1
