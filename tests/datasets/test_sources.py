"""load_corpus: every source type on local files (the hub itself is unreachable in tests), splits, caps, errors."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ailab.datasets import CorpusSpec, generate_builtin_corpus, load_corpus
from ailab.datasets.sources import is_held_out


def write_txt(path, docs, separator="<|endoftext|>"):
    path.write_text("".join(f"{d}\n{separator}\n" for d in docs), encoding="utf-8")
    return path


def write_jsonl(path, docs, field="text"):
    path.write_text("".join(json.dumps({field: d, "id": i}) + "\n" for i, d in enumerate(docs)), encoding="utf-8")
    return path


def write_parquet(path, docs, field="text"):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({field: docs, "id": list(range(len(docs)))}), path)
    return path


def hub_layout(root, train_docs, validation_docs):
    """A dataset directory laid out as the Hugging Face hub stores one: data/<split>-00000-of-00001.parquet."""
    write_parquet(root / "data" / "train-00000-of-00001.parquet", train_docs)
    write_parquet(root / "data" / "validation-00000-of-00001.parquet", validation_docs)
    return root


def check_split(splits, docs, fraction, seed=0):
    """train + validation partition `docs`, by the seeded hash rule."""
    train, validation = list(splits["train"]), list(splits["validation"])
    assert sorted(train + validation) == sorted(docs)
    assert validation == [d for d in docs if is_held_out(d, fraction, seed)]
    assert not set(train) & set(validation)
    return train, validation


# ---- built-in corpus ----------------------------------------------------------------------------------------------
def test_builtin_corpus_exact_seeded_hold_out():
    stories = generate_builtin_corpus(80, 1)
    splits = load_corpus(CorpusSpec(source="builtin", num_stories=80, seed=1, validation_fraction=0.1))
    train, validation = list(splits["train"]), list(splits["validation"])
    assert len(splits["validation"]) == len(validation) == 8 and len(splits["train"]) == len(train)
    assert not set(train) & set(validation)
    assert sorted(train + validation) == sorted(stories)
    assert [s for s in stories if s in set(train)] == train  # the generator's order is kept
    again = load_corpus(CorpusSpec(source="builtin", num_stories=80, seed=1, validation_fraction=0.1))
    assert list(again["validation"]) == validation
    reseeded = load_corpus(CorpusSpec(source="builtin", num_stories=80, seed=2, validation_fraction=0.1))
    assert list(reseeded["validation"]) != validation
    with pytest.raises(ValueError, match="at least 2"):
        load_corpus(CorpusSpec(source="builtin", num_stories=1))


# ---- local files --------------------------------------------------------------------------------------------------
def test_txt_with_separator_lines(tmp_path, documents):
    docs = documents[:20] + ["two paragraphs.\nSecond line."]
    path = write_txt(tmp_path / "train.txt", docs)
    val = write_txt(tmp_path / "validation.txt", documents[40:45])
    splits = load_corpus(CorpusSpec(source="local", path=str(path), validation_split=str(val)))
    assert list(splits["train"]) == docs
    assert list(splits["train"]) == docs  # re-iterable: read again from the file
    assert list(splits["validation"]) == documents[40:45]


def test_txt_custom_separator_crlf_and_no_trailing_separator(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"first doc\r\nline two\r\n=====\r\n\r\n  =====  \r\nsecond doc")
    splits = load_corpus(
        CorpusSpec(
            source="local", path=str(tmp_path / "a.txt"), separator="=====", validation_split=str(tmp_path / "a.txt")
        )
    )
    assert list(splits["train"]) == ["first doc\nline two", "second doc"]  # the empty document is skipped
    (tmp_path / "b.txt").write_text("para one\nstill one\n\npara two\n \npara three")
    blank_lines = load_corpus(
        CorpusSpec(source="local", path=str(tmp_path / "b.txt"), separator="", validation_split=str(tmp_path / "b.txt"))
    )
    assert list(blank_lines["train"]) == ["para one\nstill one", "para two", "para three"]


def test_txt_seeded_hold_out(tmp_path, documents):
    path = write_txt(tmp_path / "train.txt", documents)
    splits = load_corpus(CorpusSpec(source="local", path=str(path), validation_fraction=0.2, seed=3))
    train, validation = check_split(splits, documents, 0.2, seed=3)
    assert 0 < len(validation) < len(documents) // 2
    other_seed = load_corpus(CorpusSpec(source="local", path=str(path), validation_fraction=0.2, seed=4))
    assert list(other_seed["validation"]) != validation


def test_glob_and_directory_and_max_documents(tmp_path, documents):
    write_txt(tmp_path / "part1.txt", documents[:10])
    write_txt(tmp_path / "part2.txt", documents[10:25])
    splits = load_corpus(CorpusSpec(source="local", path=str(tmp_path / "part*.txt"), validation_split=str(tmp_path)))
    assert list(splits["train"]) == documents[:25]
    assert list(splits["validation"]) == documents[:25]  # a directory: every .txt inside, sorted
    capped = load_corpus(CorpusSpec(source="local", path=str(tmp_path), max_documents=12, validation_fraction=0.25))
    check_split(capped, documents[:12], 0.25)


@pytest.mark.parametrize("streaming", [False, True])
def test_jsonl(tmp_path, documents, streaming):
    write_jsonl(tmp_path / "a.jsonl", documents[:30])
    write_jsonl(tmp_path / "b.jsonl", documents[30:], field="body")
    spec = CorpusSpec(source="local", path=str(tmp_path / "a.jsonl"), streaming=streaming, validation_fraction=0.3)
    check_split(load_corpus(spec), documents[:30], 0.3)
    with pytest.raises(ValueError, match=r"no field 'text'; available fields: \['body', 'id'\]"):
        load_corpus(CorpusSpec(source="local", path=str(tmp_path / "b.jsonl"), streaming=streaming))
    body = load_corpus(
        CorpusSpec(
            source="local",
            path=str(tmp_path / "b.jsonl"),
            text_field="body",
            streaming=streaming,
            validation_split=str(tmp_path / "b.jsonl"),
            max_documents=4,
        )
    )
    assert list(body["train"]) == documents[30:34]


@pytest.mark.parametrize("streaming", [False, True])
def test_parquet_directory(tmp_path, documents, streaming):
    write_parquet(tmp_path / "shards" / "0.parquet", documents[:25])
    write_parquet(tmp_path / "shards" / "1.parquet", documents[25:])
    spec = CorpusSpec(source="local", path=str(tmp_path / "shards"), streaming=streaming, validation_fraction=0.2)
    check_split(load_corpus(spec), documents, 0.2)


# ---- Hugging Face datasets (hub layout, loaded from a local directory) --------------------------------------------
@pytest.mark.parametrize("streaming", [False, True])
def test_hf_dataset_in_hub_layout(tmp_path, documents, streaming):
    root = hub_layout(tmp_path / "tiny-stories", documents[:40], documents[40:])
    spec = CorpusSpec(source="hf", name=str(root), split="train", validation_split="validation", streaming=streaming)
    splits = load_corpus(spec)
    assert list(splits["train"]) == documents[:40]
    assert list(splits["validation"]) == documents[40:]
    capped = load_corpus(
        CorpusSpec(source="hf", name=str(root), validation_split="validation", max_documents=5, streaming=streaming)
    )
    assert list(capped["train"]) == documents[:5] and list(capped["validation"]) == documents[40:45]
    held_out = load_corpus(CorpusSpec(source="hf", name=str(root), streaming=streaming, validation_fraction=0.25))
    check_split(held_out, documents[:40], 0.25)


def test_hf_errors(tmp_path, documents):
    root = hub_layout(tmp_path / "ds", documents[:10], documents[10:20])
    with pytest.raises(ValueError, match=r"no field 'story'; available fields: \['id', 'text'\]"):
        load_corpus(CorpusSpec(source="hf", name=str(root), text_field="story"))
    with pytest.raises(ValueError, match="no split 'test'"):
        load_corpus(CorpusSpec(source="hf", name=str(root), validation_split="test"))
    with pytest.raises(ValueError, match="needs name"):
        CorpusSpec(source="hf")


# ---- bad input ----------------------------------------------------------------------------------------------------
def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_corpus(CorpusSpec(source="local", path=str(tmp_path / "nope.txt")))
    with pytest.raises(FileNotFoundError, match="matches no files"):
        load_corpus(CorpusSpec(source="local", path=str(tmp_path / "*.jsonl")))
    with pytest.raises(FileNotFoundError, match="holds no .txt/.jsonl/.parquet files"):
        load_corpus(CorpusSpec(source="local", path=str(tmp_path)))
    write_txt(tmp_path / "a.txt", ["x"])
    write_jsonl(tmp_path / "b.jsonl", ["y"])
    with pytest.raises(ValueError, match="one of .* per path"):
        load_corpus(CorpusSpec(source="local", path=str(tmp_path)))
    with pytest.raises(ValueError, match="needs path"):
        CorpusSpec(source="local")


def test_non_utf8_bytes_name_file_and_offset(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("good story\n<|endoftext|>\n".encode() + b"caf\xe9 au lait\n")
    splits = load_corpus(CorpusSpec(source="local", path=str(bad), validation_split=str(bad)))
    with pytest.raises(UnicodeDecodeError, match=r"latin1.txt at byte offset 28"):
        list(splits["train"])
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(UnicodeDecodeError, match=r"bad.jsonl at byte offset 28"):
        load_corpus(CorpusSpec(source="local", path=str(bad_jsonl)))


def test_empty_or_tiny_corpora(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n<|endoftext|>\n  \n")
    with pytest.raises(ValueError, match=r"no documents in .*empty\.txt.*: the corpus is empty"):
        list(load_corpus(CorpusSpec(source="local", path=str(empty)))["train"])
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"no documents in .*empty\.jsonl.*: the corpus is empty"):
        load_corpus(CorpusSpec(source="local", path=str(tmp_path / "empty.jsonl")))
    (tmp_path / "broken.jsonl").write_text('{"text": "a"}\nnot json\n')
    with pytest.raises(ValueError, match=r"cannot read .*broken\.jsonl.*one JSON object per line"):
        load_corpus(CorpusSpec(source="local", path=str(tmp_path / "broken.jsonl")))
    with pytest.raises(ValueError, match="validation_fraction must be in"):
        CorpusSpec(validation_fraction=0.0)
