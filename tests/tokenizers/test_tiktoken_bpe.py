"""The tiktoken encoder gives exactly the ids of `tokenizers`; BPE it cannot represent falls back to `tokenizers`."""

from __future__ import annotations

import json
import pickle
import random

import numpy as np
import pytest
from tokenizers import normalizers

from ailab.datasets import generate_builtin_corpus, pack_documents
from ailab.tokenizers import BpeTokenizer, StrippedAsciiTokenizer, TinyStoriesBpe8kTokenizer, load_tokenizer
from ailab.tokenizers.tiktoken_bpe import DISABLE_ENV, tiktoken_encoder, tiktoken_incompatibility
from tests.tokenizers.text_samples import random_unicode

EDGE_CASES = [
    "",
    " ",
    "   ",
    "\n\n\n",
    "a  b   c \n  d\t\te",
    "trailing spaces   ",
    "   leading",
    "It's Tom's; they're, we've, I'm, you'll, he'd. IT'S TOM'S 'tis ''",
    "1234567890 3.14159 -42 1,000,000 2024-12-02",
    "<|endoftext|> <|pad|> <|endoftext|><|endoftext|>",
    "naïve café — “quotes” … ½ ² Ⅻ",
    "👩‍👩‍👧 家族 日本語のテキスト Ελληνικά кириллица",
    "e\u0301\u0301 \u00a0nbsp\u2003em\u3000ideographic",
    "\x00\x01\x1f\x7f",
    "\r\n\r\n\u2028\u2029\u0085",
]


def rust_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """Today's path: the Rust tokenizer itself, special-token strings as text."""
    return [e.ids for e in tokenizer.backend.encode_batch_fast(texts, add_special_tokens=False)]


def spec_of(tokenizer) -> dict:
    return json.loads(tokenizer.backend.to_str())


@pytest.fixture(scope="module")
def builtin_corpus() -> list[str]:
    return generate_builtin_corpus()  # the pipeline's default corpus: 6000 stories, seed 0


@pytest.fixture(scope="module")
def small_bpe(corpus) -> BpeTokenizer:
    return BpeTokenizer.train(iter(corpus), vocab_size=400)


def test_ids_equal_tokenizers_on_the_whole_builtin_corpus(builtin_corpus):
    tokenizer = TinyStoriesBpe8kTokenizer.train(builtin_corpus)  # the default pipeline's tokenizer
    assert tiktoken_incompatibility(spec_of(tokenizer)) is None
    assert tokenizer.encode_batch(builtin_corpus) == rust_ids(tokenizer, builtin_corpus)


def test_ids_equal_tokenizers_on_unicode_whitespace_and_special_strings(small_bpe):
    rng = random.Random(0)
    texts = EDGE_CASES + [random_unicode(rng, 60) for _ in range(500)]
    texts += ["<|endoftext|>".join(random_unicode(rng, 10) for _ in range(3)) for _ in range(50)]
    assert small_bpe.encode_batch(texts) == rust_ids(small_bpe, texts)
    for text in texts:
        assert small_bpe.decode(small_bpe.encode(text)) == text
    assert small_bpe.eos_token_id not in small_bpe.encode("a<|endoftext|>b")


def test_bos_and_eos_are_added_around_the_tiktoken_ids(small_bpe):
    plain = rust_ids(small_bpe, ["the dog"])[0]
    assert small_bpe.encode("the dog", add_bos=True, add_eos=True) == [0, *plain, 0]


def test_threads_and_one_thread_give_the_same_ids(small_bpe, corpus, monkeypatch):
    encoder = tiktoken_encoder(spec_of(small_bpe))
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    one_thread = encoder.encode_ordinary(corpus)
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")
    assert encoder.encode_ordinary(corpus) == one_thread == rust_ids(small_bpe, corpus)


def test_older_merges_format_builds_the_same_encoder(small_bpe, corpus):
    spec = spec_of(small_bpe)
    spec["model"]["merges"] = [" ".join(pair) for pair in spec["model"]["merges"]]  # "a b", as tokenizers < 0.20
    assert tiktoken_encoder(spec).encode_ordinary(corpus) == rust_ids(small_bpe, corpus)


def test_saved_loaded_and_pickled_tokenizers_still_use_tiktoken(small_bpe, corpus, tmp_path):
    small_bpe.save(tmp_path)
    for copy in (load_tokenizer(tmp_path), pickle.loads(pickle.dumps(small_bpe))):
        assert copy._tiktoken is not None
        assert copy.encode_batch(corpus) == rust_ids(small_bpe, corpus)


def test_packing_writes_the_same_file_with_either_encoder(small_bpe, corpus, tmp_path, monkeypatch):
    files = {}
    for flag in ("1", "0"):
        monkeypatch.setenv(DISABLE_ENV, flag)
        tokenizer = pickle.loads(pickle.dumps(small_bpe))  # a fresh copy: the encoder is chosen on first use
        assert (tokenizer._tiktoken is None) == (flag == "0")
        pack_documents(corpus, tokenizer, tmp_path / f"{flag}.bin", num_proc=1, progress=False)
        files[flag] = np.fromfile(tmp_path / f"{flag}.bin", dtype=np.uint16)
    assert len(files["1"]) > len(corpus)
    np.testing.assert_array_equal(files["1"], files["0"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.update(normalizer={"type": "NFC"}), "normalizer"),
        (lambda s: s["pre_tokenizer"].update(add_prefix_space=True), "pre-tokenizer"),
        (lambda s: s.update(pre_tokenizer={"type": "Whitespace"}), "pre-tokenizer"),
        (lambda s: s["model"].update(dropout=0.1), "dropout"),
        (lambda s: s["model"].update(ignore_merges=True), "ignore_merges"),
        (lambda s: s["added_tokens"].append({"id": 5, "content": "dog", "special": False}), "non-special"),
        (lambda s: s["model"]["vocab"].pop("Ā"), "256 byte tokens"),
        (lambda s: s["model"]["merges"].reverse(), "merge"),
        (lambda s: s["model"].update(type="WordPiece"), "model"),
    ],
)
def test_what_tiktoken_cannot_represent_is_named(small_bpe, change, reason):
    spec = spec_of(small_bpe)
    change(spec)
    assert reason in tiktoken_incompatibility(spec)
    assert tiktoken_encoder(spec) is None


def test_a_bpe_tiktoken_cannot_represent_falls_back_to_tokenizers(small_bpe, corpus):
    tokenizer = pickle.loads(pickle.dumps(small_bpe))
    tokenizer.backend.normalizer = normalizers.Lowercase()
    assert tokenizer._tiktoken is None
    texts = ["The Dog SAW Lily.", *corpus[:20]]
    assert tokenizer.encode_batch(texts) == rust_ids(tokenizer, texts)
    assert tokenizer.encode("The Dog") == tokenizer.encode("the dog")


def test_ascii_tokenizer_and_the_off_switch_mean_no_tiktoken(small_bpe, monkeypatch):
    assert tiktoken_incompatibility(spec_of(StrippedAsciiTokenizer())) == "it has a normalizer"
    monkeypatch.setenv(DISABLE_ENV, "0")
    assert tiktoken_encoder(spec_of(small_bpe)) is None
