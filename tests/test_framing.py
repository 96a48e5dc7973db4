"""Training conventions travel with the model: for every tokenizer kind and add_bos, generation starts a prompt
exactly as documents started in the packed training stream (pack_documents -> Trainer -> save -> load -> generate)."""

from __future__ import annotations

import json

import pytest
import torch

from ailab.datasets import PackedTokens, PackedWindowDataset, pack_documents
from ailab.framing import FRAMING_FILE, DocumentFraming, check_same_framing, prompt_ids
from ailab.generation import generate_text
from ailab.models import build_model, from_pretrained
from ailab.tokenizers import TOKENIZER_KINDS, load_tokenizer, train_tokenizer
from ailab.trainers import Trainer, TrainingConfig
from tests.tokenizers.text_samples import make_corpus

VOCAB_SIZES = {"bpe": 320, "sentencepiece": 320, "ascii": None}
"""Small vocabularies for the kinds that train one; a kind not listed gets 8192 (a pre-trained 8k tokenizer)."""


@pytest.fixture(scope="module")
def documents() -> list[str]:
    return make_corpus(num_docs=200)


@pytest.fixture(scope="module")
def tokenizers() -> dict:
    """Tokenizers trained so far in this module, by kind (each is trained once)."""
    return {}


def tokenizer_of(kind: str, documents: list[str], cache: dict):
    if kind not in cache:
        cache[kind] = train_tokenizer(kind, documents, VOCAB_SIZES.get(kind, 8192))
    return cache[kind]


def prefill_ids(model) -> list[list[int]]:
    """Records the input ids of every forward call of `model` (the first one is the prompt)."""
    calls: list[list[int]] = []
    model.register_forward_pre_hook(lambda module, args: calls.append(args[0][0].tolist()))
    return calls


@pytest.mark.parametrize("add_bos", [False, True], ids=["no_bos", "bos"])
@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_generation_starts_a_prompt_as_training_documents_started(kind, add_bos, documents, tokenizers, tmp_path):
    tokenizer = tokenizer_of(kind, documents, tokenizers)
    if add_bos and tokenizer.bos_token_id is None:
        pytest.skip(f"tokenizer kind {kind!r} has no BOS token")
    meta = pack_documents(documents, tokenizer, tmp_path / "train.bin", num_proc=1, add_bos=add_bos, progress=False)
    assert meta["add_bos"] is add_bos

    torch.manual_seed(0)
    model = build_model(
        "gpt2", vocab_size=tokenizer.vocab_size, n_ctx=64, n_layers=1, d_model=16, n_heads=2,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    args = TrainingConfig(
        output_dir=str(tmp_path / "checkpoints"), max_steps=2, warmup_steps=0, train_batch_size=2, logging_steps=1,
        save_steps=2, device="cpu", seed=0,
    )  # fmt: skip
    trainer = Trainer(model, tokenizer, args, PackedWindowDataset(tmp_path / "train.bin", window=64), callbacks=[])
    trainer.train()
    trainer.save_model(tmp_path / "model")

    # Document 1 starts in the stream right after document 0; what precedes its text there is its context.
    stream = PackedTokens(tmp_path / "train.bin").tokens
    doc0_end = len(tokenizer.encode(documents[0], add_bos=add_bos, add_eos=True))
    text_ids = tokenizer.encode(documents[1])
    text_start = doc0_end + int(add_bos)
    assert stream[text_start : text_start + len(text_ids)].tolist() == text_ids
    as_trained = stream[doc0_end - 1 : text_start + len(text_ids)].tolist()  # previous EOS, [BOS], text

    for model_dir in (tmp_path / "model", tmp_path / "checkpoints" / "checkpoint-2"):
        loaded, loaded_tokenizer = from_pretrained(model_dir), load_tokenizer(model_dir)
        calls = prefill_ids(loaded)
        generate_text(loaded, loaded_tokenizer, documents[1], max_new_tokens=1, temperature=0.0)
        assert calls[0] == as_trained, model_dir.name


def test_a_model_directory_without_framing_keeps_starting_prompts_with_bos(documents, tokenizers, tmp_path):
    tokenizer = tokenizer_of("sentencepiece", documents, tokenizers)
    tokenizer.save(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert loaded.framing is None and not (tmp_path / FRAMING_FILE).exists()
    assert prompt_ids(loaded, "Lily saw a dog") == [tokenizer.bos_token_id, *tokenizer.encode("Lily saw a dog")]

    loaded.framing = DocumentFraming.from_tokenizer(tokenizer, add_bos=False)
    loaded.save(tmp_path / "again")  # a tokenizer saves the framing it carries
    assert load_tokenizer(tmp_path / "again").framing == loaded.framing
    assert prompt_ids(loaded, "Lily saw a dog") == [tokenizer.eos_token_id, *tokenizer.encode("Lily saw a dog")]


def test_framing_round_trips_and_reads_sidecars_written_before_it_had_a_name(tmp_path):
    framing = DocumentFraming(add_bos=True, bos_token_id=1, eos_token_id=2)
    assert DocumentFraming.from_dict(framing.to_dict()) == framing
    assert framing.frame([7, 8]) == [1, 7, 8, 2] and framing.document_start == [2, 1]
    old_sidecar = {"format_version": 1, "dtype": "uint16", "bos_token_id": 0, "eos_token_id": 0, "add_bos": False}
    assert DocumentFraming.from_dict(old_sidecar) == DocumentFraming(add_bos=False, bos_token_id=0, eos_token_id=0)
    framing.save(tmp_path)
    assert DocumentFraming.load(tmp_path) == framing
    assert DocumentFraming.load(tmp_path / "elsewhere") is None


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not a readable framing file"),
        (json.dumps({"add_bos": False}), "has no document framing"),
        (json.dumps({"add_bos": "yes", "bos_token_id": 1, "eos_token_id": 2}), "invalid document framing"),
        (json.dumps({"add_bos": True, "bos_token_id": None, "eos_token_id": 2}), "needs a bos_token_id"),
    ],
)
def test_a_damaged_framing_file_is_named(tmp_path, content, message):
    (tmp_path / FRAMING_FILE).write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        DocumentFraming.load(tmp_path)
    assert str(tmp_path / FRAMING_FILE) in str(error.value)


def test_evaluation_refuses_data_framed_unlike_the_training_data():
    data = DocumentFraming(add_bos=True, bos_token_id=1, eos_token_id=2)
    trained = DocumentFraming(add_bos=False, bos_token_id=1, eos_token_id=2)
    check_same_framing(data, "validation.bin", None, "old-model")  # a model saved before framing: nothing to compare
    check_same_framing(data, "validation.bin", data, "model")
    with pytest.raises(ValueError, match=r"validation.bin frames documents as <BOS=1> text <EOS=2> but the model in "):
        check_same_framing(data, "validation.bin", trained, "model")
