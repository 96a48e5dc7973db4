"""LlamaTokenizer: exact round trips of the training corpus, parity with sentencepiece, tokenizers and transformers."""

from __future__ import annotations

import random

import pytest
import sentencepiece as spm
from tokenizers import Tokenizer as RustTokenizer

from ailab.tokenizers import LlamaTokenizer, load_tokenizer
from tests.tokenizers.text_samples import make_corpus, random_unicode

EDGE_DOCS = [
    " leading space",
    "  two leading spaces",
    "trailing spaces  ",
    "inner   runs  of spaces",
    "line one\nline two\n",
    "\n\nstarts with blank lines",
    "tab\tseparated\tcolumns",
    "digits 1234567890 and 3.14",
    'Mom said, "Don\'t go!"\n\nLily went anyway.',
    "rare <brackets> / slashes",
]


@pytest.fixture(scope="module")
def training_docs(corpus) -> list[str]:
    return corpus + EDGE_DOCS


@pytest.fixture(scope="module")
def llama(training_docs) -> LlamaTokenizer:
    return LlamaTokenizer.train(iter(training_docs), vocab_size=400)


def test_train_sets_vocab_and_special_tokens(llama):
    assert llama.kind == "sentencepiece"
    assert llama.vocab_size == 400
    assert (llama.id_to_token(0), llama.id_to_token(1), llama.id_to_token(2)) == ("<unk>", "<s>", "</s>")
    assert (llama.bos_token_id, llama.eos_token_id, llama.pad_token_id) == (1, 2, None)
    assert llama.id_to_token(3) == "<0x00>" and llama.id_to_token(258) == "<0xFF>"
    assert llama.is_byte_fallback(0) and llama.is_byte_fallback(3) and llama.is_byte_fallback(258)
    assert not llama.is_byte_fallback(1) and not llama.is_byte_fallback(259)
    digits = llama.encode("2024")
    assert [llama.id_to_token(i) for i in digits][-4:] == ["2", "0", "2", "4"]  # split_digits


def test_training_corpus_round_trips_exactly(llama, training_docs):
    for doc, ids in zip(training_docs, llama.encode_batch(training_docs)):
        assert llama.decode(ids) == doc
        assert not any(llama.is_byte_fallback(i) for i in ids), doc  # every training character has a piece


def test_unseen_unicode_round_trips_through_byte_fallback(llama):
    rng = random.Random(1)
    for text in [random_unicode(rng) for _ in range(200)] + ["😀 中文 e\u0301"]:
        ids = llama.encode(text)
        assert llama.decode(ids) == text


def test_bos_eos(llama):
    plain = llama.encode("the dog")
    assert llama.encode("the dog", add_bos=True, add_eos=True) == [1, *plain, 2]
    assert llama.decode([1, *plain, 2]) == "the dog"
    assert llama.decode([1, *plain, 2], skip_special_tokens=False) == "<s>the dog</s>"
    literal = "<s> and </s> and <unk> as plain text"
    ids = llama.encode(literal)
    assert not {0, 1, 2} & set(ids) and llama.decode(ids) == literal
    assert llama.encode("the dog", return_tensors="pt").tolist() == [plain]


def test_saved_model_loads_in_sentencepiece_with_same_ids(llama, training_docs, tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")  # a model in the same directory is left alone
    llama.save(tmp_path)
    processor = spm.SentencePieceProcessor(model_file=str(tmp_path / "tokenizer.model"))
    rng = random.Random(2)
    texts = training_docs + [random_unicode(rng) for _ in range(100)]
    assert processor.encode(texts) == llama.encode_batch(texts)
    assert [processor.decode(ids) for ids in llama.encode_batch(texts)] == texts
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is LlamaTokenizer
    assert loaded.fingerprint() == llama.fingerprint()
    assert LlamaTokenizer(tmp_path / "tokenizer.model").encode_batch(texts) == llama.encode_batch(texts)
    assert (tmp_path / "model.safetensors").read_bytes() == b"weights"


def test_fingerprint_ignores_threads_but_not_vocabulary(llama, training_docs):
    assert LlamaTokenizer.train(iter(training_docs), 400, num_threads=1).fingerprint() == llama.fingerprint()
    assert LlamaTokenizer.train(iter(training_docs), 399).fingerprint() != llama.fingerprint()


def test_long_multiline_documents_are_trained_on():
    long_doc = "\n".join(f"Zebra number {i} quietly jumped over the xylophone." for i in range(300))
    assert len(long_doc.encode()) > 4192  # SentencePiece's default max_sentence_length would skip it
    tokenizer = LlamaTokenizer.train(iter(make_corpus(100) + [long_doc]), vocab_size=350)
    ids = tokenizer.encode(long_doc)
    assert not any(tokenizer.is_byte_fallback(i) for i in ids)  # "Z", "x", "q", "j" got pieces
    assert tokenizer.decode(ids) == long_doc


def test_small_corpus_gives_fewer_tokens_and_bad_sizes_fail_clearly(training_docs):
    assert LlamaTokenizer.train(iter(training_docs[:50]), vocab_size=2000).vocab_size < 2000
    with pytest.raises(TypeError, match="training texts must be str, got bytes"):
        LlamaTokenizer.train(iter(training_docs + [b"bytes"]), vocab_size=400)
    with pytest.raises(ValueError, match="distinct characters"):
        LlamaTokenizer.train(iter(training_docs), vocab_size=270)
    with pytest.raises(ValueError, match="vocab_size must be an int"):
        LlamaTokenizer.train(iter(training_docs), vocab_size=100)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LlamaTokenizer("missing/tokenizer.model")


def test_tokenizers_conversion_gives_same_ids(llama, training_docs):
    converted = llama.to_rust_tokenizer()
    assert isinstance(converted, RustTokenizer)
    rng = random.Random(3)
    texts = training_docs + [random_unicode(rng) for _ in range(300)] + ["", " ", " x", "  y", "a \n b"]
    assert [e.ids for e in converted.encode_batch(texts, add_special_tokens=False)] == llama.encode_batch(texts)
    assert [converted.decode(ids) for ids in llama.encode_batch(texts)] == texts


def test_hf_tokenizer_gives_same_ids(llama, training_docs, tmp_path):
    transformers = pytest.importorskip("transformers")
    llama.to_hf_tokenizer().save_pretrained(tmp_path)
    hf = transformers.AutoTokenizer.from_pretrained(tmp_path)
    rng = random.Random(4)
    texts = training_docs + [random_unicode(rng) for _ in range(100)]
    assert hf(texts, add_special_tokens=False)["input_ids"] == llama.encode_batch(texts)
    assert (hf.bos_token_id, hf.eos_token_id, hf.unk_token_id, hf.pad_token_id) == (1, 2, 0, None)
    assert [hf.decode(ids, skip_special_tokens=True) for ids in llama.encode_batch(texts, add_bos=True)] == texts
