"""Look at a packed corpus the way the model will see it: a decoded dump, statistics and two plots.

`write_corpus_report(packed_path, tokenizer, out_dir)` writes into `out_dir`:
- `dump.txt`: the first windows of the stream decoded, special tokens shown as ⟨BOS⟩/⟨EOS⟩/⟨PAD⟩ and a line
  after each EOS, so document boundaries and what the tokenizer made of the text are plain to see;
- `stats.json`: tokens, documents, characters and bytes per token, document length percentiles, share of the
  vocabulary used, share of byte-fallback/unknown tokens, the 20 most frequent tokens;
- `doc_length_hist.png` / `.csv` and `token_rank_frequency.png` / `.csv` (log-log, Zipf's law shows as a line): the
  CSVs are there for `dvc plots`.
The token file is read in chunks of `chunk_tokens` (np.bincount per chunk), so memory does not grow with the corpus.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from ailab.datasets.packing import DocumentLengths, PackedTokens
from ailab.io import atomic_write_bytes, atomic_write_json, atomic_write_text

SPECIAL_MARKERS = {"bos": "⟨BOS⟩", "eos": "⟨EOS⟩", "pad": "⟨PAD⟩"}
TOP_TOKENS = 20


def _special_markers(tokenizer) -> dict[int, str]:
    """Token id -> visible marker (EOS wins where BOS and EOS share an id, as in GPT-2)."""
    markers = {}
    for role in ("pad", "bos", "eos"):
        token_id = getattr(tokenizer, f"{role}_token_id")
        if token_id is not None:
            markers[token_id] = SPECIAL_MARKERS[role]
    return markers


def decode_visible(tokenizer, ids: np.ndarray, markers: dict[int, str], bos_eos_seen: int | None = None) -> str:
    """Decode `ids` with special tokens replaced by markers and a line break after each EOS.

    `bos_eos_seen`: when BOS and EOS share one id and documents start with BOS, how many of those tokens precede
    `ids` in the stream; they alternate BOS, EOS, BOS, ... so the count tells which is which.
    """
    parts, run = [], []
    eos = tokenizer.eos_token_id
    for token_id in ids.tolist():
        if token_id not in markers:
            run.append(token_id)
            continue
        if run:
            parts.append(tokenizer.decode(run, skip_special_tokens=False))
            run = []
        if token_id == eos and bos_eos_seen is not None:
            is_bos = bos_eos_seen % 2 == 0
            bos_eos_seen += 1
            parts.append(SPECIAL_MARKERS["bos"] if is_bos else SPECIAL_MARKERS["eos"] + "\n")
        else:
            parts.append(markers[token_id] + ("\n" if token_id == eos else ""))
    if run:
        parts.append(tokenizer.decode(run, skip_special_tokens=False))
    return "".join(parts)


def render_dump(packed: PackedTokens, tokenizer, num_windows: int, window: int) -> str:
    """The first `num_windows` windows of `window` tokens, decoded, each under a header line."""
    markers = _special_markers(tokenizer)
    add_bos = bool(packed.meta.get("add_bos"))
    shared = add_bos and tokenizer.bos_token_id == tokenizer.eos_token_id
    total = len(packed)
    lines = [
        f"# {packed.path.name}: {total:,} tokens, {packed.meta['num_documents']:,} documents; first "
        f"{num_windows} windows of {window} tokens. ⟨EOS⟩ ends a document"
        + (", ⟨BOS⟩ starts one" if add_bos else "")
        + ".",
        "",
    ]
    seen = 0
    for i in range(num_windows):
        start = i * window
        if start >= total:
            break
        ids = np.asarray(packed.tokens[start : start + window])
        lines.append(f"{'=' * 30} window {i}: tokens {start}..{start + len(ids) - 1} {'=' * 30}")
        lines.append(decode_visible(tokenizer, ids, markers, seen if shared else None))
        lines.append("")
        seen += int((ids == tokenizer.eos_token_id).sum())
    return "\n".join(lines)


def scan_tokens(packed: PackedTokens, chunk_tokens: int = 1 << 24) -> tuple[np.ndarray, DocumentLengths]:
    """Count of each token id and the distribution of document lengths (text tokens), one chunk at a time."""
    meta = packed.meta
    eos, bos, add_bos = meta["eos_token_id"], meta.get("bos_token_id"), bool(meta.get("add_bos"))
    bos_is_eos = add_bos and bos == eos  # then markers alternate BOS, EOS, BOS, EOS, ...; every second one ends a doc
    counts = np.zeros(packed.vocab_size, dtype=np.int64)
    lengths = DocumentLengths()
    previous_end, markers_seen = -1, 0
    for start in range(0, len(packed), chunk_tokens):
        chunk = np.asarray(packed.tokens[start : start + chunk_tokens])
        counts += np.bincount(chunk, minlength=packed.vocab_size)[: packed.vocab_size]
        ends = np.flatnonzero(chunk == eos) + start
        if bos_is_eos:
            ends = ends[(np.arange(len(ends)) + markers_seen) % 2 == 1]
            markers_seen += int((chunk == eos).sum())
        if len(ends):
            starts = np.concatenate([[previous_end], ends[:-1]]) + 1 + add_bos
            lengths.add(ends - starts)
            previous_end = int(ends[-1])
    return counts, lengths


def _plot_png(draw) -> bytes:
    """Render a figure drawn by `draw(ax)` to PNG bytes with the Agg canvas (no pyplot, no global backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=100, layout="tight")
    FigureCanvasAgg(fig)
    draw(fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _csv(rows: list[tuple], header: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _doc_length_histogram(lengths: DocumentLengths, bins: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(bin left edges, documents per bin) over 0..max length, from the per-length counts."""
    max_len = len(lengths.counts) - 1
    edges = np.unique(np.linspace(0, max_len + 1, bins + 1).astype(np.int64))
    per_bin = np.add.reduceat(lengths.counts, edges[:-1]) if max_len >= 0 else np.zeros(0, np.int64)
    return edges, per_bin


def write_corpus_report(
    packed_path: str | os.PathLike, tokenizer, out_dir: str | os.PathLike, num_windows: int = 8, window: int = 256
) -> dict[str, Any]:
    """Write dump.txt, stats.json and the plots (see module docstring) for `packed_path`; return the stats."""
    packed = PackedTokens(packed_path)
    packed.check_tokenizer(tokenizer)
    out_dir = Path(out_dir)
    meta = packed.meta
    counts, lengths = scan_tokens(packed)
    num_tokens = int(counts.sum())

    used = np.flatnonzero(counts)
    byte_fallback = sum(int(counts[i]) for i in used if tokenizer.is_byte_fallback(int(i)))
    top = np.argsort(-counts, kind="stable")[:TOP_TOKENS]
    stats = {
        "num_tokens": num_tokens,
        "num_documents": meta["num_documents"],
        "num_chars": meta["num_chars"],
        "num_bytes": meta["num_bytes"],
        "chars_per_token": meta["num_chars"] / num_tokens,
        "bytes_per_token": meta["num_bytes"] / num_tokens,
        "document_length_tokens": lengths.summary(),
        "vocab_size": packed.vocab_size,
        "vocab_used": len(used),
        "vocab_used_fraction": len(used) / packed.vocab_size,
        "byte_fallback_token_fraction": byte_fallback / num_tokens,
        "top_tokens": [
            {
                "id": int(i),
                "count": int(counts[i]),
                "fraction": float(counts[i] / num_tokens),
                "token": tokenizer.id_to_token(int(i)),
                "text": tokenizer.decode([int(i)], skip_special_tokens=False),
            }
            for i in top
            if counts[i] > 0
        ],
        "tokenizer_kind": meta["tokenizer_kind"],
        "tokenizer_fingerprint": meta["tokenizer_fingerprint"],
    }

    edges, per_bin = _doc_length_histogram(lengths)
    frequencies = np.sort(counts[used])[::-1]
    ranks = np.unique(np.geomspace(1, len(frequencies), num=min(len(frequencies), 200)).astype(np.int64))

    def draw_lengths(ax) -> None:
        ax.bar(edges[:-1], per_bin, width=np.diff(edges), align="edge", color="tab:blue")
        ax.set(
            xlabel="document length (tokens, EOS excluded)",
            ylabel="documents",
            title=f"{packed.path.name}: {meta['num_documents']:,} documents",
        )

    def draw_ranks(ax) -> None:
        ax.loglog(np.arange(1, len(frequencies) + 1), frequencies, color="tab:blue")
        ax.set(
            xlabel="token rank",
            ylabel="count",
            title=f"{packed.path.name}: {len(used):,} of {packed.vocab_size:,} ids used",
        )
        ax.grid(True, which="major", alpha=0.3)

    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "dump.txt", render_dump(packed, tokenizer, num_windows, window))
    atomic_write_json(out_dir / "stats.json", stats)
    atomic_write_bytes(out_dir / "doc_length_hist.png", _plot_png(draw_lengths))
    atomic_write_text(
        out_dir / "doc_length_hist.csv",
        _csv([(int(e), int(c)) for e, c in zip(edges[:-1], per_bin)], ("length_tokens", "documents")),
    )
    atomic_write_bytes(out_dir / "token_rank_frequency.png", _plot_png(draw_ranks))
    atomic_write_text(
        out_dir / "token_rank_frequency.csv",
        _csv([(int(r), int(frequencies[r - 1])) for r in ranks], ("rank", "count")),
    )
    return stats
