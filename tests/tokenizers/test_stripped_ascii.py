"""StrippedAsciiTokenizer: fixed vocabulary, documented mapping of non-ASCII text, parity with transformers."""

from __future__ import annotations

import json
import random

import pytest
from tokenizers import Tokenizer as RustTokenizer

from ailab.tokenizers import StrippedAsciiTokenizer, load_tokenizer
from ailab.tokenizers.stripped_ascii import ALPHABET, ASCII_REPLACEMENTS
from tests.tokenizers.text_samples import random_unicode


@pytest.fixture(scope="module")
def ascii_tok() -> StrippedAsciiTokenizer:
    return StrippedAsciiTokenizer()


def test_fixed_vocabulary(ascii_tok):
    assert ascii_tok.kind == "ascii"
    assert ascii_tok.vocab_size == 98
    assert ascii_tok.bos_token_id == ascii_tok.eos_token_id == 0 and ascii_tok.pad_token_id == 1
    assert [ascii_tok.id_to_token(i) for i in range(2, 98)] == list(ALPHABET)
    assert ascii_tok.encode("\n !~") == [2, 3, 4, 97]
    assert ascii_tok.fingerprint() == StrippedAsciiTokenizer().fingerprint()


def test_alphabet_text_round_trips(ascii_tok):
    rng = random.Random(0)
    for _ in range(200):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))
        ids = ascii_tok.encode(text)
        assert len(ids) == len(text)
        assert ascii_tok.decode(ids) == text
    text = "x <|endoftext|> y <|pad|>"
    assert ascii_tok.decode(ascii_tok.encode(text)) == text  # special-token strings are plain characters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“Don’t go,” she said — softly…", '"Don\'t go," she said - softly...'),
        ("café naïve Ångström", "cafe naive Angstrom"),
        ("a\tb\r\nc\rd\u2028e", "a b\nc\nd\ne"),
        ("non\u00a0breaking\u2009thin", "non breaking thin"),
        ("ﬁne ①", "fine 1"),
        ("emoji 😀 and 中文 gone\x00\x07\x7f", "emoji  and  gone"),
    ],
)
def test_non_ascii_is_mapped_or_stripped(ascii_tok, text, expected):
    assert ascii_tok.decode(ascii_tok.encode(text)) == expected


def test_encoding_never_fails_and_stays_in_alphabet(ascii_tok):
    rng = random.Random(1)
    texts = [random_unicode(rng) for _ in range(300)]
    for text, ids in zip(texts, ascii_tok.encode_batch(texts)):
        assert all(2 <= i < 98 for i in ids), text
        assert set(ascii_tok.decode(ids)) <= set(ALPHABET)


def test_python_encoder_matches_the_tokenizers_backend(ascii_tok):
    rng = random.Random(5)
    pieces = list(ASCII_REPLACEMENTS) + ["\r", "\n", "é", "ﬁ", "\u00a0", "x", " "]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(300)]
    texts += [random_unicode(rng) for _ in range(300)]
    backend = ascii_tok.backend
    assert ascii_tok.encode_batch(texts) == [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]
    ids = ascii_tok.encode("ok", add_bos=True, add_eos=True)
    assert ascii_tok.decode(ids, skip_special_tokens=False) == backend.decode(ids, skip_special_tokens=False)


def test_save_load_and_direct_tokenizers(ascii_tok, tmp_path):
    ascii_tok.save(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is StrippedAsciiTokenizer
    assert loaded.fingerprint() == ascii_tok.fingerprint()
    direct = RustTokenizer.from_file(str(tmp_path / "tokenizer.json"))
    rng = random.Random(2)
    texts = [random_unicode(rng) for _ in range(100)]
    assert [e.ids for e in direct.encode_batch(texts, add_special_tokens=False)] == ascii_tok.encode_batch(texts)
    assert loaded.encode_batch(texts) == ascii_tok.encode_batch(texts)
    older = json.loads(direct.to_str())
    del older["normalizer"]["normalizers"][1]  # e.g. a version without the CRLF rule
    (tmp_path / "tokenizer.json").write_text(json.dumps(older))
    with pytest.raises(ValueError, match="differs from this version"):
        load_tokenizer(tmp_path)


def test_hf_tokenizer_gives_same_ids(ascii_tok, tmp_path):
    transformers = pytest.importorskip("transformers")
    ascii_tok.to_hf_tokenizer().save_pretrained(tmp_path)
    hf = transformers.AutoTokenizer.from_pretrained(tmp_path)
    rng = random.Random(3)
    texts = [random_unicode(rng) for _ in range(100)] + ["Hello, world!\n<|endoftext|>"]
    assert hf(texts, add_special_tokens=False)["input_ids"] == ascii_tok.encode_batch(texts)
    assert (hf.bos_token_id, hf.eos_token_id, hf.pad_token_id) == (0, 0, 1)
    assert hf.decode(ascii_tok.encode("Hi there\nok")) == "Hi there\nok"
