"""pack_documents / PackedTokens: exact token layout, sidecar, parallel == serial, atomicity, mismatch errors."""

from __future__ import annotations

import json
import os
import pickle
import stat

import numpy as np
import pytest
from tokenizers import Tokenizer as RustTokenizer
from tokenizers import models, pre_tokenizers

from ailab.datasets import PackedTokens, pack_documents
from ailab.datasets.packing import DocumentLengths, token_dtype
from ailab.tokenizers import BpeTokenizer
from ailab.tokenizers.fast import FastTokenizer


def expected_stream(tokenizer, docs, add_bos=False):
    """The packed layout built the slow, obvious way: per-document encode, [BOS] ids EOS, concatenated."""
    out = []
    for doc in docs:
        out += ([tokenizer.bos_token_id] if add_bos else []) + tokenizer.encode(doc) + [tokenizer.eos_token_id]
    return out


def test_tokens_are_each_document_followed_by_eos(tmp_path, bpe, documents):
    meta = pack_documents(documents, bpe, tmp_path / "train.bin", num_proc=1, chunk_size=7)
    packed = PackedTokens(tmp_path / "train.bin")
    assert packed.tokens.tolist() == expected_stream(bpe, documents)
    assert packed.tokens.dtype == np.uint16 and meta["dtype"] == "uint16"
    assert meta == json.loads((tmp_path / "train.json").read_text())
    assert meta["num_tokens"] == len(packed) == (tmp_path / "train.bin").stat().st_size // 2
    assert meta["num_documents"] == len(documents)
    assert meta["num_bytes"] == sum(len(d.encode("utf-8")) for d in documents)
    assert meta["num_chars"] == sum(len(d) for d in documents)
    assert meta["num_bytes"] > meta["num_chars"]  # the fixture has non-ASCII text
    assert meta["tokenizer_fingerprint"] == bpe.fingerprint() and meta["tokenizer_kind"] == "bpe"
    assert meta["vocab_size"] == bpe.vocab_size and meta["add_bos"] is False
    lengths = [len(bpe.encode(d)) for d in documents]
    assert meta["document_length_tokens"]["max"] == max(lengths)
    assert meta["document_length_tokens"]["p50"] == int(np.percentile(lengths, 50, method="inverted_cdf"))
    assert meta["document_length_tokens"]["mean"] == pytest.approx(np.mean(lengths))


def test_bos_before_each_document_when_asked(tmp_path, documents):
    tok = BpeTokenizer.train(documents, vocab_size=300, special_tokens={"bos": "<s>", "eos": "</s>", "pad": None})
    assert tok.bos_token_id != tok.eos_token_id
    meta = pack_documents(documents[:5], tok, tmp_path / "t.bin", num_proc=1, add_bos=True)
    tokens = PackedTokens(tmp_path / "t.bin").tokens.tolist()
    assert tokens == expected_stream(tok, documents[:5], add_bos=True)
    assert tokens[0] == tok.bos_token_id and tokens[-1] == tok.eos_token_id
    assert meta["add_bos"] is True and meta["num_tokens"] == len(tokens)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_parallel_packing_matches_serial(tmp_path, bpe, documents, start_method):
    # A literal "<|endoftext|>" is ordinary text for ailab tokenizers: workers must keep that setting.
    docs = documents + ["the cat said <|endoftext|> and ran"]
    serial = pack_documents(docs, bpe, tmp_path / "serial.bin", num_proc=1)
    parallel = pack_documents(
        iter(docs), bpe, tmp_path / "par.bin", num_proc=2, chunk_size=9, start_method=start_method
    )
    assert (tmp_path / "serial.bin").read_bytes() == (tmp_path / "par.bin").read_bytes()
    assert serial == parallel
    assert PackedTokens(tmp_path / "par.bin").tokens.tolist() == expected_stream(bpe, docs)


def test_uint32_when_the_vocabulary_exceeds_uint16(tmp_path):
    vocab = {"<eos>": 0, "<unk>": 1, **{f"w{i}": i + 2 for i in range(70_000)}}
    backend = RustTokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()

    class WordTokenizer(FastTokenizer):
        kind = "wordlevel"

    tok = WordTokenizer(backend, bos_token=None, eos_token="<eos>", pad_token=None)
    meta = pack_documents(["w0 w69999", "w65600"], tok, tmp_path / "big.bin", num_proc=1)
    packed = PackedTokens(tmp_path / "big.bin")
    assert meta["dtype"] == "uint32" and packed.tokens.dtype == np.uint32
    assert packed.tokens.tolist() == [2, 70_001, 0, 65_602, 0]
    assert token_dtype(65_535) == np.uint16 and token_dtype(65_536) == np.uint32


def test_empty_corpus_is_an_error_and_leaves_no_file(tmp_path, bpe):
    with pytest.raises(ValueError, match="corpus is empty"):
        pack_documents(iter([]), bpe, tmp_path / "empty.bin", num_proc=1)
    assert list(tmp_path.iterdir()) == []


def test_non_string_document_is_an_error(tmp_path, bpe):
    with pytest.raises(TypeError, match="document 2 is bytes"):
        pack_documents(["a", "b", b"c"], bpe, tmp_path / "x.bin", num_proc=1)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_repack_keeps_the_old_file(tmp_path, bpe, documents):
    pack_documents(documents, bpe, tmp_path / "t.bin", num_proc=1)
    before = (tmp_path / "t.bin").read_bytes()
    with pytest.raises(TypeError):
        pack_documents(documents[:3] + [None], bpe, tmp_path / "t.bin", num_proc=1, chunk_size=2)
    assert (tmp_path / "t.bin").read_bytes() == before
    assert len(PackedTokens(tmp_path / "t.bin")) == len(before) // 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.bin", "t.json"]


def test_packed_tokens_rejects_a_file_that_does_not_match_its_sidecar(tmp_path, bpe, documents):
    pack_documents(documents, bpe, tmp_path / "t.bin", num_proc=1)
    with open(tmp_path / "t.bin", "ab") as f:
        f.write(b"\0\0")
    with pytest.raises(ValueError, match="do not belong together"):
        PackedTokens(tmp_path / "t.bin")
    (tmp_path / "t.json").unlink()
    with pytest.raises(FileNotFoundError, match="no sidecar"):
        PackedTokens(tmp_path / "t.bin")
    with pytest.raises(FileNotFoundError, match="run the prepare stage"):
        PackedTokens(tmp_path / "missing.bin")


def test_tokenizer_and_model_mismatch_are_caught(tmp_path, bpe, ascii_tokenizer, documents):
    pack_documents(documents, bpe, tmp_path / "t.bin", num_proc=1)
    packed = PackedTokens(tmp_path / "t.bin")
    packed.check_tokenizer(bpe)
    packed.check_compatible(vocab_size=bpe.vocab_size, fingerprint=bpe.fingerprint())
    packed.check_compatible(vocab_size=384)  # a model's embedding padded beyond the tokenizer is fine
    with pytest.raises(ValueError, match="vocabulary of 320 ids but"):
        packed.check_tokenizer(ascii_tokenizer)
    other = BpeTokenizer.train(documents[::-1] + ["zebra zebra zebra"] * 5, vocab_size=320)
    assert other.fingerprint() != bpe.fingerprint()
    with pytest.raises(ValueError, match="different tokenizer"):
        packed.check_tokenizer(other)
    with pytest.raises(ValueError, match="model has only 256"):
        packed.check_compatible(vocab_size=256)


def test_pickling_packed_tokens_does_not_copy_the_corpus(tmp_path, bpe, documents):
    pack_documents(documents * 20, bpe, tmp_path / "t.bin", num_proc=1)
    packed = PackedTokens(tmp_path / "t.bin")
    blob = pickle.dumps(packed)
    assert len(blob) < 1000 < packed.tokens.nbytes
    assert np.array_equal(pickle.loads(blob).tokens, packed.tokens)


def test_missing_special_tokens_are_errors(tmp_path, ascii_tokenizer):
    vocab = {"<unk>": 0, "a": 1}

    class NoEos(FastTokenizer):
        kind = "wordlevel"

    backend = RustTokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok = NoEos(backend, bos_token=None, eos_token=None, pad_token=None)
    with pytest.raises(ValueError, match="no EOS token"):
        pack_documents(["a"], tok, tmp_path / "x.bin", num_proc=1)
    with pytest.raises(ValueError, match="sidecar goes"):
        pack_documents(["a"], ascii_tokenizer, tmp_path / "x.json", num_proc=1)


def test_document_lengths_percentiles_match_numpy():
    rng = np.random.default_rng(0)
    lengths = DocumentLengths()
    parts = [rng.integers(0, 500, size=n) for n in (100, 7, 1000)]
    for part in parts:
        lengths.add(part)
    all_lengths = np.concatenate(parts)
    for q in (1, 10, 50, 90, 99, 100):
        assert lengths.percentile(q) == int(np.percentile(all_lengths, q, method="inverted_cdf"))
    assert lengths.summary()["max"] == all_lengths.max() and lengths.num_documents == len(all_lengths)


def test_token_files_follow_the_umask(tmp_path, bpe, documents):
    previous = os.umask(0o027)
    try:
        pack_documents(documents, bpe, tmp_path / "train.bin", num_proc=1)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "train.bin").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "train.json").stat().st_mode) == 0o640
