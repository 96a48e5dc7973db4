"""BpeTokenizer: lossless round trips, parity with `tokenizers` loaded directly and with transformers."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer as RustTokenizer

from ailab.tokenizers import BpeTokenizer, TinyStoriesBpe8kTokenizer, load_tokenizer
from ailab.tokenizers.bpe import PRETRAINED_TINYSTORIES_FILE
from tests.tokenizers.text_samples import make_corpus, random_unicode

SPECIAL_STRINGS = ["<|endoftext|>", "<|pad|>", "<|endoftext", "|>"]
ROOT = Path(__file__).resolve().parents[2]
TINYSTORIES_SHA256 = "178bf06898fe0854f74be7479696e7faeb2ad1aec3efb2365925464a9f3fb48a"


def tinystories_sample() -> Path | None:
    """The real TinyStories sample the shipped tokenizer was trained on, where this machine has it."""
    sample = "shared/data/tinystories/train.txt"  # beside the checkout, or beside the folder of worktrees
    candidates = [os.environ.get("AILAB_TINYSTORIES_TXT"), ROOT.parent / sample, ROOT.parents[1] / sample]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="module")
def bpe(corpus) -> BpeTokenizer:
    return BpeTokenizer.train(iter(corpus), vocab_size=400)


def test_train_sets_vocab_and_special_tokens(bpe):
    assert bpe.vocab_size == 400
    assert bpe.kind == "bpe"
    assert bpe.bos_token_id == bpe.eos_token_id == 0
    assert bpe.pad_token_id == 1
    assert bpe.id_to_token(0) == "<|endoftext|>"
    assert bpe.id_to_token(1) == "<|pad|>"
    assert not any(bpe.is_byte_fallback(i) for i in range(bpe.vocab_size))
    # merges were learned: a frequent word is a single token
    assert len(bpe.encode(" little")) == 1


def test_round_trip_random_unicode(bpe):
    rng = random.Random(1)
    samples = [random_unicode(rng) for _ in range(300)]
    # literal special-token strings are ordinary text: they survive decode(skip_special_tokens=True)
    samples += [rng.choice(SPECIAL_STRINGS).join(random_unicode(rng, 8) for _ in range(3)) for _ in range(50)]
    samples += ["", " ", "\n\n", "  leading and trailing  ", "e\u0301\u0301", "👩‍👩‍👧 家族", "\t\r\n\x00"]
    for text in samples:
        ids = bpe.encode(text)
        assert bpe.decode(ids) == text
        assert bpe.decode(ids, skip_special_tokens=False) == text
    assert bpe.encode_batch(samples) == [bpe.encode(s) for s in samples]


def test_literal_special_string_is_text_not_special(bpe):
    ids = bpe.encode("a<|endoftext|>b")
    assert bpe.eos_token_id not in ids
    assert bpe.decode(ids) == "a<|endoftext|>b"


def test_bos_eos_and_tensors(bpe):
    plain = bpe.encode("the dog")
    assert bpe.encode("the dog", add_bos=True, add_eos=True) == [0, *plain, 0]
    assert bpe.encode_batch(["the dog", "x"], add_eos=True) == [plain + [0], bpe.encode("x") + [0]]
    tensor = bpe.encode("the dog", add_bos=True, return_tensors="pt")
    assert tensor.dtype == torch.long and tensor.shape == (1, len(plain) + 1)
    assert bpe.decode(tensor[0]) == "the dog"
    assert bpe.decode([0, *plain, 1, 0], skip_special_tokens=False) == "<|endoftext|>the dog<|pad|><|endoftext|>"


def test_saved_tokenizer_json_loads_in_tokenizers_with_same_ids(bpe, corpus, tmp_path):
    bpe.save(tmp_path)
    direct = RustTokenizer.from_file(str(tmp_path / "tokenizer.json"))
    rng = random.Random(2)
    texts = corpus[:50] + [random_unicode(rng) for _ in range(100)]
    assert [e.ids for e in direct.encode_batch(texts, add_special_tokens=False)] == bpe.encode_batch(texts)
    for text in texts:
        assert direct.decode(bpe.encode(text)) == text
    assert direct.get_vocab_size() == bpe.vocab_size
    marker = json.loads((tmp_path / "ailab_tokenizer.json").read_text())
    assert marker["kind"] == "bpe" and marker["eos_token"] == "<|endoftext|>"


def test_save_load_and_fingerprint(bpe, corpus, tmp_path):
    (tmp_path / "config.json").write_text("{}")  # a model saved in the same directory is left alone
    bpe.save(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is BpeTokenizer
    assert (tmp_path / "config.json").read_text() == "{}"
    assert loaded.fingerprint() == bpe.fingerprint()
    assert loaded.encode_batch(corpus[:20]) == bpe.encode_batch(corpus[:20])
    assert BpeTokenizer.train(iter(corpus), vocab_size=400).fingerprint() == bpe.fingerprint()  # deterministic
    assert BpeTokenizer.train(iter(corpus), vocab_size=399).fingerprint() != bpe.fingerprint()
    other_specials = BpeTokenizer.train(iter(corpus), 400, special_tokens={"bos": "<s>", "eos": "</s>", "pad": None})
    assert other_specials.fingerprint() != bpe.fingerprint()
    assert (other_specials.bos_token_id, other_specials.eos_token_id, other_specials.pad_token_id) == (0, 1, None)
    eos_only = BpeTokenizer.train(iter(corpus), 300, special_tokens={"eos": "</s>"})
    assert (eos_only.bos_token_id, eos_only.eos_token_id) == (None, 0)
    with pytest.raises(ValueError, match="no BOS token"):
        eos_only.encode("a", add_bos=True)


def test_train_streams_from_a_generator():
    consumed = []

    def documents():
        for doc in make_corpus(200, seed=3):
            consumed.append(1)
            yield doc

    tokenizer = BpeTokenizer.train(documents(), vocab_size=300)
    assert len(consumed) == 200
    assert tokenizer.decode(tokenizer.encode("Lily saw 42 dogs")) == "Lily saw 42 dogs"


def test_bad_arguments_raise_clear_errors(bpe, corpus):
    with pytest.raises(ValueError, match="vocab_size must be an int >= 258"):
        BpeTokenizer.train(corpus, vocab_size=100)
    with pytest.raises(ValueError, match="unknown special token roles"):
        BpeTokenizer.train(corpus, 300, special_tokens={"cls": "<cls>", "eos": "</s>"})
    with pytest.raises(TypeError, match="dict of role"):
        BpeTokenizer.train(corpus, 300, special_tokens=["<s>"])
    with pytest.raises(TypeError, match="training texts must be str"):
        BpeTokenizer.train([b"bytes"], 300)
    with pytest.raises(ValueError, match="out of range"):
        bpe.decode([bpe.vocab_size])
    with pytest.raises(TypeError, match="encode_batch"):
        bpe.encode(["a list"])
    with pytest.raises(ValueError, match="fixed recipe"):
        TinyStoriesBpe8kTokenizer.train(corpus, vocab_size=4096)


def test_tinystories_recipe_round_trips_through_save(corpus, tmp_path):
    tokenizer = TinyStoriesBpe8kTokenizer.train(iter(corpus))
    assert tokenizer.vocab_size <= TinyStoriesBpe8kTokenizer.VOCAB_SIZE  # a tiny corpus runs out of merges
    assert (tokenizer.eos_token_id, tokenizer.pad_token_id) == (0, 1)
    tokenizer.save(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is TinyStoriesBpe8kTokenizer
    assert loaded.encode_batch(corpus[:10]) == tokenizer.encode_batch(corpus[:10])


def test_hf_tokenizer_gives_same_ids(bpe, corpus, tmp_path):
    transformers = pytest.importorskip("transformers")
    hf = bpe.to_hf_tokenizer()
    hf.save_pretrained(tmp_path)
    reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path)
    rng = random.Random(4)
    texts = corpus[:30] + [random_unicode(rng) for _ in range(50)] + ["a<|endoftext|>b <|pad|>"]
    for tokenizer in (hf, reloaded):
        assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (0, 0, 1)
        assert tokenizer(texts, add_special_tokens=False)["input_ids"] == bpe.encode_batch(texts)
        assert [tokenizer.decode(bpe.encode(t), skip_special_tokens=True) for t in texts] == texts


def test_shipped_tokenizer_loads_with_no_arguments(corpus):
    tokenizer = TinyStoriesBpe8kTokenizer()
    assert type(tokenizer) is TinyStoriesBpe8kTokenizer and tokenizer.kind == "bpe"
    assert tokenizer.vocab_size == TinyStoriesBpe8kTokenizer.VOCAB_SIZE == 8192
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (0, 0, 1)
    assert (tokenizer.id_to_token(0), tokenizer.id_to_token(1)) == ("<|endoftext|>", "<|pad|>")
    # trained on TinyStories: its characters and words are single tokens
    for word in (" Lily", " Timmy", " upon", " park", " happy"):
        assert len(tokenizer.encode(word)) == 1, word
    rng = random.Random(5)
    texts = corpus[:50] + [random_unicode(rng) for _ in range(200)] + ["Once upon a time<|endoftext|> 👩‍👩‍👧 家族\r\n"]
    assert [tokenizer.decode(ids) for ids in tokenizer.encode_batch(texts)] == texts


def test_shipped_tokenizer_is_the_plain_tokenizers_file(corpus):
    tokenizer = TinyStoriesBpe8kTokenizer()
    direct = RustTokenizer.from_file(str(PRETRAINED_TINYSTORIES_FILE))
    rng = random.Random(6)
    texts = corpus[:50] + [random_unicode(rng) for _ in range(100)]  # no special-token strings: see fast.py
    assert [e.ids for e in direct.encode_batch(texts, add_special_tokens=False)] == tokenizer.encode_batch(texts)
    assert direct.get_vocab_size() == tokenizer.vocab_size
    assert tokenizer.backend.to_str(pretty=True) == PRETRAINED_TINYSTORIES_FILE.read_text()


def test_shipped_tokenizer_saves_and_loads_as_itself(tmp_path):
    tokenizer = TinyStoriesBpe8kTokenizer()
    tokenizer.save(tmp_path)
    assert (tmp_path / "tokenizer.json").read_bytes() == PRETRAINED_TINYSTORIES_FILE.read_bytes()
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is TinyStoriesBpe8kTokenizer and loaded.fingerprint() == tokenizer.fingerprint()
    again = TinyStoriesBpe8kTokenizer(tmp_path / "tokenizer.json")  # a path loads that file instead
    assert again.fingerprint() == tokenizer.fingerprint()
    with pytest.raises(FileNotFoundError, match="no tokenizer.json at .*missing.json"):
        TinyStoriesBpe8kTokenizer(tmp_path / "missing.json")


def test_shipped_tokenizer_notes_its_data_command_and_licence():
    note = (PRETRAINED_TINYSTORIES_FILE.parent / "NOTE.md").read_text()
    assert TINYSTORIES_SHA256 in note and "7,038" in note and "CDLA-Sharing-1.0" in note
    assert "python scripts/build_tinystories_tokenizer.py" in note
    assert hashlib.sha256(PRETRAINED_TINYSTORIES_FILE.read_bytes()).hexdigest() in note


def test_build_script_rebuilds_the_identical_shipped_file(tmp_path):
    sample = tinystories_sample()
    if sample is None:
        pytest.skip("the TinyStories sample (../shared/data/tinystories/train.txt) is not on this machine")
    script = ROOT / "scripts" / "build_tinystories_tokenizer.py"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(script), str(sample), "--out", str(tmp_path)], check=True, env=env)
    assert (tmp_path / "tokenizer.json").read_bytes() == PRETRAINED_TINYSTORIES_FILE.read_bytes()
    assert (tmp_path / "NOTE.md").read_text() == (PRETRAINED_TINYSTORIES_FILE.parent / "NOTE.md").read_text()
