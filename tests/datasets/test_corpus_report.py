"""write_corpus_report: the dump shows documents and special tokens, the stats agree with a direct count, the plots
and their CSVs are written."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ailab.datasets import pack_documents, write_corpus_report
from ailab.datasets.corpus_report import scan_tokens
from ailab.datasets.packing import PackedTokens
from ailab.tokenizers import BpeTokenizer, LlamaTokenizer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_report_files_and_stats(tmp_path, bpe, documents):
    pack_documents(documents, bpe, tmp_path / "train.bin", num_proc=1)
    out = tmp_path / "reports" / "corpus"
    stats = write_corpus_report(tmp_path / "train.bin", bpe, out, num_windows=3, window=64)
    assert sorted(p.name for p in out.iterdir()) == [
        "doc_length_hist.csv",
        "doc_length_hist.png",
        "dump.txt",
        "stats.json",
        "token_rank_frequency.csv",
        "token_rank_frequency.png",
    ]
    assert json.loads((out / "stats.json").read_text()) == stats

    tokens = np.fromfile(tmp_path / "train.bin", dtype=np.uint16)
    ids, counts = np.unique(tokens, return_counts=True)
    lengths = [len(bpe.encode(d)) for d in documents]
    assert stats["num_tokens"] == len(tokens) and stats["num_documents"] == len(documents)
    assert stats["chars_per_token"] == pytest.approx(sum(map(len, documents)) / len(tokens))
    assert stats["bytes_per_token"] == pytest.approx(sum(len(d.encode()) for d in documents) / len(tokens))
    assert stats["vocab_used"] == len(ids) and stats["vocab_used_fraction"] == pytest.approx(len(ids) / bpe.vocab_size)
    assert stats["byte_fallback_token_fraction"] == 0.0  # byte-level BPE has no fallback tokens
    for q in (10, 50, 90, 99):
        assert stats["document_length_tokens"][f"p{q}"] == int(np.percentile(lengths, q, method="inverted_cdf"))
    assert stats["document_length_tokens"]["max"] == max(lengths)
    top = stats["top_tokens"]
    assert len(top) == 20 and [t["count"] for t in top] == sorted(counts, reverse=True)[:20]
    eos = next(t for t in top if t["id"] == bpe.eos_token_id)
    assert eos["count"] == len(documents) and eos["token"] == "<|endoftext|>"
    assert all(t["text"] == bpe.decode([t["id"]], skip_special_tokens=False) for t in top)

    dump = (out / "dump.txt").read_text()
    assert dump.count("window ") == 3
    header, body = dump.split("\n", 1)
    assert "⟨EOS⟩ ends a document" in header
    assert body.count("⟨EOS⟩") == int((tokens[: 3 * 64] == bpe.eos_token_id).sum()) > 0
    assert documents[0] + "⟨EOS⟩\n" in dump  # a document, then its end made visible and a line break

    for name in ("doc_length_hist.png", "token_rank_frequency.png"):
        assert (out / name).read_bytes().startswith(PNG_SIGNATURE)
    with open(out / "doc_length_hist.csv") as f:
        rows = list(csv.DictReader(f))
    assert sum(int(r["documents"]) for r in rows) == len(documents)
    with open(out / "token_rank_frequency.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[0] == {"rank": "1", "count": str(counts.max())}


@pytest.mark.parametrize("separate_bos", [False, True])
def test_document_lengths_with_bos(tmp_path, documents, separate_bos):
    specials = {"bos": "<s>", "eos": "</s>", "pad": None} if separate_bos else None  # default: BOS == EOS
    tok = BpeTokenizer.train(documents, vocab_size=300, special_tokens=specials)
    pack_documents(documents, tok, tmp_path / "t.bin", num_proc=1, add_bos=True)
    packed = PackedTokens(tmp_path / "t.bin")
    lengths = [len(tok.encode(d)) for d in documents]
    for chunk_tokens in (7, 1 << 20):  # chunk edges anywhere, e.g. between a BOS and its EOS
        counts, doc_lengths = scan_tokens(packed, chunk_tokens=chunk_tokens)
        assert doc_lengths.num_documents == len(documents)
        assert doc_lengths.counts.tolist() == np.bincount(lengths).tolist()
        assert counts.sum() == len(packed)
    dump = write_corpus_report(tmp_path / "t.bin", tok, tmp_path / "r", num_windows=2, window=300)
    lines = (tmp_path / "r" / "dump.txt").read_text().splitlines()
    assert lines[2].startswith("=" * 30 + " window 0") and lines[3] == f"⟨BOS⟩{documents[0]}⟨EOS⟩"
    assert lines[4] == f"⟨BOS⟩{documents[1]}⟨EOS⟩"
    assert dump["document_length_tokens"]["max"] == max(lengths)


def test_byte_fallback_share_for_sentencepiece(tmp_path, documents):
    tok = LlamaTokenizer.train(documents * 3, vocab_size=300)
    docs = documents[:10] + ["rare characters: 漢字 ☃ ∑"]
    pack_documents(docs, tok, tmp_path / "t.bin", num_proc=1)
    stats = write_corpus_report(tmp_path / "t.bin", tok, tmp_path / "r")
    tokens = np.fromfile(tmp_path / "t.bin", dtype=np.uint16)
    fallback = sum(tok.is_byte_fallback(int(t)) for t in tokens)
    assert fallback > 0
    assert stats["byte_fallback_token_fraction"] == pytest.approx(fallback / len(tokens))


def test_report_refuses_another_tokenizer(tmp_path, bpe, ascii_tokenizer, documents):
    pack_documents(documents, bpe, tmp_path / "t.bin", num_proc=1)
    with pytest.raises(ValueError, match="re-run the prepare stage"):
        write_corpus_report(tmp_path / "t.bin", ascii_tokenizer, tmp_path / "r")
    assert not (tmp_path / "r").exists()
