"""train_tokenizer / load_tokenizer: dispatch on kind, the marker file, and clear errors."""

from __future__ import annotations

import json
import pickle

import pytest

from ailab.tokenizers import (
    FIXED_KINDS,
    TOKENIZER_KINDS,
    BpeTokenizer,
    LlamaTokenizer,
    StrippedAsciiTokenizer,
    TinyStoriesBpe8kTokenizer,
    Tokenizer,
    load_tokenizer,
    train_tokenizer,
)
from tests.tokenizers.text_samples import make_corpus


@pytest.mark.parametrize(
    ("kind", "vocab_size", "cls"),
    [
        ("bpe", 300, BpeTokenizer),
        ("bpe", 8192, TinyStoriesBpe8kTokenizer),
        ("ascii", None, StrippedAsciiTokenizer),
        ("sentencepiece", 320, LlamaTokenizer),
        ("tinystories-bpe-8k", 8192, TinyStoriesBpe8kTokenizer),
    ],
)
def test_train_save_load_round_trip(kind, vocab_size, cls, tmp_path):
    docs = make_corpus(150, seed=5)
    tokenizer = train_tokenizer(kind, (doc for doc in docs), vocab_size)
    assert type(tokenizer) is cls and tokenizer.kind == cls.kind and isinstance(tokenizer, Tokenizer)
    tokenizer.save(tmp_path / "tok")
    marker = json.loads((tmp_path / "tok" / "ailab_tokenizer.json").read_text())
    assert marker["kind"] == cls.kind and marker["class"] == cls.__name__
    assert not (tmp_path / "tok" / "config.json").exists()
    loaded = load_tokenizer(tmp_path / "tok")
    assert type(loaded) is cls
    assert loaded.fingerprint() == tokenizer.fingerprint()
    assert loaded.encode_batch(docs[:20], add_eos=True) == tokenizer.encode_batch(docs[:20], add_eos=True)
    assert [loaded.decode(ids) for ids in loaded.encode_batch(docs[:20])] == docs[:20]
    # worker processes get tokenizers by pickle: settings outside tokenizer.json must survive it
    unpickled = pickle.loads(pickle.dumps(tokenizer))
    assert type(unpickled) is cls and unpickled.fingerprint() == tokenizer.fingerprint()
    literal = "a <|endoftext|> <s> </s> b"
    assert unpickled.encode(literal) == tokenizer.encode(literal)
    assert tokenizer.eos_token_id not in unpickled.encode(literal)


def test_fingerprints_differ_across_kinds():
    docs = make_corpus(100, seed=6)
    fingerprints = {
        train_tokenizer("bpe", docs, 300).fingerprint(),
        train_tokenizer("sentencepiece", docs, 320).fingerprint(),
        train_tokenizer("ascii", docs, None).fingerprint(),
    }
    assert len(fingerprints) == 3


@pytest.mark.parametrize("kind", FIXED_KINDS)
def test_fixed_kinds_do_not_read_the_texts(kind):
    def unreadable():
        raise AssertionError("the texts were read")
        yield ""

    assert train_tokenizer(kind, unreadable(), None).kind == {"ascii": "ascii", "tinystories-bpe-8k": "bpe"}[kind]


def test_pretrained_kind_is_the_shipped_tokenizer_and_refuses_other_sizes():
    for vocab_size in (8192, None):
        tokenizer = train_tokenizer("tinystories-bpe-8k", [], vocab_size)
        assert tokenizer.fingerprint() == TinyStoriesBpe8kTokenizer().fingerprint() and tokenizer.vocab_size == 8192
    with pytest.raises(ValueError, match=r"pre-trained with exactly 8192 tokens.*use kind 'bpe' to train"):
        train_tokenizer("tinystories-bpe-8k", [], 4096)


def test_ascii_ignores_vocab_size_with_a_warning():
    with pytest.warns(UserWarning, match="fixed vocabulary of 98"):
        assert train_tokenizer("ascii", [], 8192).vocab_size == 98


def test_bad_kind_and_missing_sizes_fail_clearly():
    with pytest.raises(ValueError, match=r"unknown tokenizer kind 'wordpiece'.*'sentencepiece', 'tinystories-bpe-8k'"):
        train_tokenizer("wordpiece", [], 100)
    with pytest.raises(ValueError, match="needs a vocab_size"):
        train_tokenizer("bpe", [], None)
    assert TOKENIZER_KINDS == ("bpe", "ascii", "sentencepiece", "tinystories-bpe-8k")


def test_load_without_tokenizer_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_tokenizer(tmp_path / "nowhere")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="has no ailab_tokenizer.json"):
        load_tokenizer(tmp_path)
    (tmp_path / "ailab_tokenizer.json").write_text(json.dumps({"kind": "wordpiece"}))
    with pytest.raises(ValueError, match="unknown tokenizer"):
        load_tokenizer(tmp_path)
    (tmp_path / "ailab_tokenizer.json").write_text(json.dumps({"kind": "bpe", "class": "BpeTokenizer"}))
    with pytest.raises(FileNotFoundError, match="tokenizer.json is missing"):
        load_tokenizer(tmp_path)


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_interface_edge_cases(kind):
    import numpy as np
    import torch

    tokenizer = train_tokenizer(
        kind, make_corpus(100, seed=7), {"ascii": None, "tinystories-bpe-8k": 8192}.get(kind, 320)
    )
    assert tokenizer.encode_batch([]) == [] and tokenizer.encode("") == [] and tokenizer.decode([]) == ""
    ids = tokenizer.encode("hi there")
    assert tokenizer.decode(np.array(ids)) == tokenizer.decode(torch.tensor(ids)) == "hi there"
    with pytest.raises(ValueError, match="1-D"):
        tokenizer.decode(torch.tensor([ids, ids]))
    with pytest.raises(ValueError, match="return_tensors"):
        tokenizer.encode("hi", return_tensors="np")
    with pytest.raises(TypeError, match="single str"):
        tokenizer.encode_batch("hi")
    with pytest.raises(ValueError, match="out of range"):
        tokenizer.id_to_token(-1)


@pytest.mark.parametrize(
    ("kind", "vocab_size", "data_file"),
    [("bpe", 300, "tokenizer.json"), ("ascii", None, "tokenizer.json"), ("sentencepiece", 320, "tokenizer.model")],
)
def test_a_damaged_tokenizer_file_is_named(kind, vocab_size, data_file, tmp_path):
    train_tokenizer(kind, make_corpus(150, seed=5), vocab_size).save(tmp_path)
    for name in (data_file, "ailab_tokenizer.json"):
        file = tmp_path / name
        good = file.read_bytes()
        file.write_bytes(good[: len(good) // 2])
        with pytest.raises(ValueError, match=rf"{file} is damaged .*tokenizer\.save\(dir\)"):
            load_tokenizer(tmp_path)
        file.write_bytes(good)
