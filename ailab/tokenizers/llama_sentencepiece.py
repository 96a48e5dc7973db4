"""`LlamaTokenizer`: a SentencePiece BPE model, trained and used the way llama2.c does for TinyStories.

Training settings (`TRAINER_SETTINGS`): BPE, byte fallback (characters without a piece become `<0xNN>` byte
tokens, so nothing is ever unknown), digits split into single tokens, identity normalisation, character coverage
1.0, whitespace-only pieces allowed, and a dummy "▁" prefix as in LLaMA. One deliberate difference from llama2.c:
`remove_extra_whitespaces=False`, so runs of spaces survive and `decode(encode(doc)) == doc` holds exactly.

Each document is one SentencePiece "sentence", newlines included ("\\n" is an ordinary character and "\\n\\n"
can become a piece); llama2.c instead writes one line per sentence to a text file, which loses the newlines.
Documents longer than `max_sentence_length` bytes (default 1 MiB) are skipped by the trainer, and it ignores
the strings "<s>", "</s>", "<unk>" inside training text; when encoding, such strings are ordinary text.
Ids: 0 `<unk>`, 1 `<s>` (BOS), 2 `</s>` (EOS), 3..258 the byte tokens; no PAD token (`pad_token_id` is None,
as in LLaMA: pad with EOS, or mask).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sentencepiece as spm

from ailab.io import atomic_write_bytes
from ailab.tokenizers.base import Tokenizer

MODEL_FILE = "tokenizer.model"
TRAINER_SETTINGS: dict[str, Any] = {
    "model_type": "bpe",
    "byte_fallback": True,
    "split_digits": True,
    "normalization_rule_name": "identity",
    "character_coverage": 1.0,
    "allow_whitespace_only_pieces": True,
    "add_dummy_prefix": True,
    "remove_extra_whitespaces": False,
    "unk_id": 0,
    "bos_id": 1,
    "eos_id": 2,
    "pad_id": -1,
    "unk_surface": " \u2047 ",
    "hard_vocab_limit": False,  # a corpus too small for vocab_size gives fewer tokens instead of an error
}
# Fields of the saved trainer spec that say how training ran, not what the model is: left out of the fingerprint.
_RUN_ONLY_FIELDS = ("input", "input_format", "model_prefix", "num_threads")


def _encode_threads() -> int:
    """All cores, unless TOKENIZERS_PARALLELISM=false (set by multi-process callers, as for `tokenizers`)."""
    if os.environ.get("TOKENIZERS_PARALLELISM", "").lower() in ("false", "0", "off", "no"):
        return 1
    return os.cpu_count() or 1


class _TrainingTexts:
    """Iterator over the training texts that keeps the first error: SentencePiece turns it into a RuntimeError."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = iter(texts)
        self.error: BaseException | None = None

    def __iter__(self) -> _TrainingTexts:
        return self

    def __next__(self) -> str:
        try:
            text = next(self._texts)
            if not isinstance(text, str):
                raise TypeError(f"training texts must be str, got {type(text).__name__}: {text!r:.80}")
        except StopIteration:
            raise
        except BaseException as error:
            self.error = error
            raise
        return text


class LlamaTokenizer(Tokenizer):
    """SentencePiece BPE with byte fallback (LLaMA / llama2.c); `LlamaTokenizer(path)` loads a `.model` file."""

    kind = "sentencepiece"

    def __init__(self, model_file: str | os.PathLike | None = None, *, model_proto: bytes | None = None) -> None:
        if (model_file is None) == (model_proto is None):
            raise ValueError("give exactly one of model_file (a .model path) or model_proto (its bytes)")
        if model_file is not None:
            path = Path(model_file)
            if not path.is_file():
                raise FileNotFoundError(f"SentencePiece model {path} does not exist")
            model_proto = path.read_bytes()
        self._proto = model_proto
        self._sp = spm.SentencePieceProcessor(model_proto=model_proto)

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        *,
        input_sentence_size: int = 0,
        max_sentence_length: int = 1 << 20,
        num_threads: int | None = None,
        seed: int = 0,
    ) -> LlamaTokenizer:
        """Train on `texts` (any iterable of str; one document per item, newlines allowed).

        The result has at most `vocab_size` tokens (fewer when the corpus has no more pairs to merge).
        SentencePiece reads the documents into memory; `input_sentence_size` > 0 caps that by sampling that many
        documents at random (llama2.c uses 200,000 for TinyStories), 0 keeps all. `seed` seeds that sampling
        (through SentencePiece's process-wide generator).
        """
        minimum = 3 + 256 + 1
        if not isinstance(vocab_size, int) or vocab_size < minimum:
            raise ValueError(
                f"vocab_size must be an int >= {minimum} (3 special + 256 byte tokens + characters), got {vocab_size!r}"
            )
        model = io.BytesIO()
        documents = _TrainingTexts(texts)
        spm.set_random_generator_seed(seed)
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=documents,
                model_writer=model,
                vocab_size=vocab_size,
                input_sentence_size=input_sentence_size,
                shuffle_input_sentence=True,
                max_sentence_length=max_sentence_length,
                num_threads=num_threads or os.cpu_count() or 1,
                minloglevel=2,  # warnings and errors only
                **TRAINER_SETTINGS,
            )
        except RuntimeError as error:
            if documents.error is not None:
                raise documents.error from None
            hint = (
                " Raise vocab_size to at least the number of distinct characters + 259."
                if ("required_chars" in str(error))
                else ""
            )
            raise ValueError(
                f"SentencePiece could not train a {vocab_size}-token vocabulary: {error}.{hint}"
            ) from error
        return cls(model_proto=model.getvalue())

    def __getstate__(self) -> dict[str, Any]:
        return {"model_proto": self._proto}

    def __setstate__(self, state: dict[str, Any]) -> None:
        LlamaTokenizer.__init__(self, model_proto=state["model_proto"])

    @classmethod
    def from_directory(cls, directory: Path, settings: dict[str, Any]) -> LlamaTokenizer:
        return cls(directory / MODEL_FILE)

    @property
    def processor(self) -> spm.SentencePieceProcessor:
        """The underlying `sentencepiece.SentencePieceProcessor`."""
        return self._sp

    @property
    def vocab_size(self) -> int:
        return self._sp.vocab_size()

    @property
    def bos_token_id(self) -> int | None:
        return self._id_or_none(self._sp.bos_id())

    @property
    def eos_token_id(self) -> int | None:
        return self._id_or_none(self._sp.eos_id())

    @property
    def pad_token_id(self) -> int | None:
        return self._id_or_none(self._sp.pad_id())

    @staticmethod
    def _id_or_none(token_id: int) -> int | None:
        return None if token_id < 0 else token_id

    def _encode_plain(self, texts: Sequence[str]) -> list[list[int]]:
        return self._sp.encode(list(texts), num_threads=_encode_threads())

    def _decode_plain(self, ids: list[int], skip_special_tokens: bool) -> str:
        if skip_special_tokens:
            return self._sp.decode(ids)  # SentencePiece drops control tokens (<s>, </s>) when decoding
        # keep <s>/</s> visible: decode the runs between them and put their piece text back
        text, run = [], []
        for i in ids:
            if self._sp.is_control(i):
                text.append(self._sp.decode(run))
                text.append(self._sp.id_to_piece(i))
                run = []
            else:
                run.append(i)
        text.append(self._sp.decode(run))
        return "".join(text)

    def id_to_token(self, token_id: int) -> str:
        self._check_id(token_id)
        return self._sp.id_to_piece(token_id)

    def is_byte_fallback(self, token_id: int) -> bool:
        self._check_id(token_id)
        return self._sp.is_byte(token_id) or self._sp.is_unknown(token_id)

    def _save_files(self, directory: Path) -> dict[str, Any]:
        atomic_write_bytes(directory / MODEL_FILE, self._proto)
        return {"model_file": MODEL_FILE}

    def _model_proto(self):
        from sentencepiece import sentencepiece_model_pb2  # needs the protobuf package

        model = sentencepiece_model_pb2.ModelProto()
        model.ParseFromString(self._proto)
        return model

    def _canonical_bytes(self) -> bytes:
        model = self._model_proto()
        for field in _RUN_ONLY_FIELDS:
            model.trainer_spec.ClearField(field)
        return model.SerializeToString(deterministic=True)

    def to_rust_tokenizer(self):
        """The same model as a `tokenizers.Tokenizer` (BPE with byte fallback), giving identical ids.

        Merges are rebuilt from the pieces in score order, as transformers' LlamaConverter does; unlike it, the
        "▁" prefix is always prepended (transformers' Metaspace skips it when the text starts with a space).
        """
        model = self._model_proto()
        spec, normalizer = model.trainer_spec, model.normalizer_spec
        reasons = []
        if spec.model_type != spec.BPE:
            reasons.append("model_type is not BPE")
        if normalizer.name != "identity" or normalizer.remove_extra_whitespaces:
            reasons.append("the normalizer is not identity without remove_extra_whitespaces")
        if not spec.byte_fallback:
            reasons.append("byte_fallback is off")
        if model.pieces and any(p.type == p.USER_DEFINED for p in model.pieces):
            reasons.append("it has user-defined pieces")
        if reasons:
            raise NotImplementedError(f"cannot convert this SentencePiece model to tokenizers: {'; '.join(reasons)}")

        from tokenizers import AddedToken, Regex, decoders, models, normalizers
        from tokenizers import Tokenizer as RustTokenizer

        vocab = {p.piece: i for i, p in enumerate(model.pieces)}
        merges = []  # (left, right, score of the merged piece): SentencePiece merges the best-scoring pair first
        for piece in model.pieces:
            if piece.type != piece.NORMAL:
                continue
            splits = [(piece.piece[:k], piece.piece[k:]) for k in range(1, len(piece.piece))]
            splits = sorted((a, b) for a, b in splits if a in vocab and b in vocab)
            splits.sort(key=lambda pair: (vocab[pair[0]], vocab[pair[1]]))
            merges.extend((left, right, piece.score) for left, right in splits)
        merges.sort(key=lambda merge: -merge[2])
        unk = model.pieces[spec.unk_id].piece
        backend = RustTokenizer(
            models.BPE(
                vocab=vocab, merges=[(a, b) for a, b, _ in merges], unk_token=unk, fuse_unk=True, byte_fallback=True
            )
        )
        space = [normalizers.Replace(Regex(" "), "\u2581")]
        backend.normalizer = normalizers.Sequence(
            ([normalizers.Prepend("\u2581")] if normalizer.add_dummy_prefix else []) + space
        )
        backend.decoder = decoders.Sequence(
            [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()]
            + ([decoders.Strip(" ", 1, 0)] if normalizer.add_dummy_prefix else [])
        )
        specials = [p.piece for p in model.pieces if p.type in (p.CONTROL, p.UNKNOWN)]
        backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
        return backend

    def to_hf_tokenizer(self):
        """A `transformers.PreTrainedTokenizerFast` over `to_rust_tokenizer()`: identical ids (tested)."""
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast(
            tokenizer_object=self.to_rust_tokenizer(),
            bos_token=self._token_or_none(self.bos_token_id),
            eos_token=self._token_or_none(self.eos_token_id),
            pad_token=self._token_or_none(self.pad_token_id),
            unk_token=self._token_or_none(self._id_or_none(self._sp.unk_id())),
            split_special_tokens=True,
            clean_up_tokenization_spaces=False,
        )

    def _token_or_none(self, token_id: int | None) -> str | None:
        return None if token_id is None else self._sp.id_to_piece(token_id)
