"""Streamers receive token ids as `generate` makes them (`put(ids)`, then `end()`) and turn them into text.

Text is released only once it is final: the pending tokens are decoded together and only a prefix that later tokens
cannot change is released. A byte-level BPE token may hold half of a UTF-8 character (decoded as U+FFFD until the
rest arrives), and other decoders (sentencepiece, WordPiece) may change the end of a word as tokens are added, so the
released prefix ends at the last whitespace; text ending in a wide (CJK) character, which has no spaces between words,
is released up to that character. `end()` releases the rest.
"""

from __future__ import annotations

import queue
import sys
import unicodedata
from typing import TextIO

from torch import Tensor

REPLACEMENT_CHARACTER = "\ufffd"


class BaseStreamer:
    """The protocol `generate` calls: `put(ids)` with the prompt first, then each new token; `end()` once at the end."""

    def put(self, ids: Tensor) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError


def stable_prefix_length(text: str) -> int:
    """How many leading characters of decoded `text` no later token can change."""
    text = text.rstrip(REPLACEMENT_CHARACTER)  # maybe the first bytes of a character still to come
    if not text:
        return 0
    if text[-1].isspace() or _is_wide(text[-1]):
        return len(text)
    last_space = max((i for i, c in enumerate(text) if c.isspace()), default=-1)
    return last_space + 1


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def decode_continuation(tokenizer, context: list[int], ids: list[int], **decode_kwargs) -> str:
    """The text `ids` add after `context`.

    Decoders such as SentencePiece's drop the leading space of the first word of a decode, so new ids decoded on
    their own lose the space between the prompt and the continuation; decoded behind their context, they keep it.
    """
    if not context:
        return tokenizer.decode(ids, **decode_kwargs)
    before = tokenizer.decode(context, **decode_kwargs)
    full = tokenizer.decode(context + ids, **decode_kwargs)
    return full[len(before) :] if full.startswith(before) else tokenizer.decode(ids, **decode_kwargs)


class TextStreamer(BaseStreamer):
    """Decodes the ids it is given and calls `on_finalized_text(text, stream_end)` with each final piece of text.

    Only batch size 1 is supported. With `skip_prompt=True` the first `put` (the prompt) is not turned into text.
    `decode_kwargs` go to `tokenizer.decode` (e.g. `skip_special_tokens=False`).
    """

    def __init__(self, tokenizer, skip_prompt: bool = True, **decode_kwargs):
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self.token_cache: list[int] = []
        self.printed_length = 0  # characters of decode(token_cache) already released
        self.next_is_prompt = True
        self.context: list[int] = []  # the prompt's last token: new text is decoded behind it

    def put(self, ids: Tensor) -> None:
        if ids.dim() > 1:
            if ids.size(0) != 1:
                raise ValueError(f"streaming supports batch size 1 only, got ids of shape {tuple(ids.shape)}")
            ids = ids[0]
        if self.skip_prompt and self.next_is_prompt:
            self.next_is_prompt = False
            self.context = ids.tolist()[-1:]
            return
        self.next_is_prompt = False
        self.token_cache.extend(ids.tolist())
        text = decode_continuation(self.tokenizer, self.context, self.token_cache, **self.decode_kwargs)
        stable = stable_prefix_length(text)
        if stable > self.printed_length:
            piece = text[self.printed_length : stable]
            self.printed_length = stable
            self.on_finalized_text(piece, stream_end=False)

    def end(self) -> None:
        text = decode_continuation(self.tokenizer, self.context, self.token_cache, **self.decode_kwargs)
        piece = text[self.printed_length :] if self.token_cache else ""
        self.token_cache = []
        self.printed_length = 0
        self.next_is_prompt = True
        self.context = []
        self.on_finalized_text(piece, stream_end=True)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        raise NotImplementedError


class TextGenStdoutStreamer(TextStreamer):
    """Prints the generated text to `file` (stdout by default) as soon as it is final, flushing each piece."""

    def __init__(self, tokenizer, skip_prompt: bool = True, file: TextIO | None = None, **decode_kwargs):
        super().__init__(tokenizer, skip_prompt=skip_prompt, **decode_kwargs)
        self.file = file

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        out = self.file if self.file is not None else sys.stdout
        print(text, end="\n" if stream_end else "", file=out, flush=True)


class TextIteratorStreamer(TextStreamer):
    """Puts final text pieces on a queue, to iterate over from another thread while `generate` runs.

    `timeout` (seconds) bounds each wait for the next piece; `queue.Empty` is raised when it runs out.

        streamer = TextIteratorStreamer(tokenizer)
        Thread(target=model.generate, args=(ids,), kwargs={"streamer": streamer}).start()
        for piece in streamer: ...
    """

    _STOP = object()

    def __init__(self, tokenizer, skip_prompt: bool = True, timeout: float | None = None, **decode_kwargs):
        super().__init__(tokenizer, skip_prompt=skip_prompt, **decode_kwargs)
        self.text_queue: queue.Queue = queue.Queue()
        self.timeout = timeout

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.text_queue.put(text, timeout=self.timeout)
        if stream_end:
            self.text_queue.put(self._STOP, timeout=self.timeout)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        value = self.text_queue.get(timeout=self.timeout)
        if value is self._STOP:
            raise StopIteration
        return value
