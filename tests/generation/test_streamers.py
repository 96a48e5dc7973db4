"""Streamers release only final text: never half a UTF-8 character, and all of it joined equals the decoded tokens."""

import io
import queue
import threading

import pytest
import torch

from ailab.generation import TextGenStdoutStreamer, TextIteratorStreamer
from ailab.generation.streamers import TextStreamer, decode_continuation, stable_prefix_length

from .conftest import make_model

# Characters the tokenizer never saw in training: each is split into single-byte tokens.
TEXT = "The cat 😀 saw 中文字 and 🐈‍⬛ ran away. Café naïve 日本語のテキスト! The end 🎉"


class RecordingStreamer(TextStreamer):
    def __init__(self, tokenizer, **kwargs):
        super().__init__(tokenizer, **kwargs)
        self.pieces: list[str] = []
        self.ended = False

    def on_finalized_text(self, text, stream_end=False):
        self.pieces.append(text)
        self.ended = stream_end


def test_stable_prefix_holds_back_partial_characters_and_words():
    assert stable_prefix_length("hello wor") == len("hello ")
    assert stable_prefix_length("hello \ufffd") == len("hello ")
    assert stable_prefix_length("ab\ufffd\ufffd") == 0
    assert stable_prefix_length("猫が") == 2  # wide characters: no spaces between words, released at once
    assert stable_prefix_length("a\ufffdb c") == 4  # an invalid byte followed by more text is final
    assert stable_prefix_length("") == 0


def test_token_by_token_stream_never_breaks_a_character(bpe_tokenizer):
    ids = bpe_tokenizer.encode(TEXT)
    partial = [i for i in ids if "\ufffd" in bpe_tokenizer.decode([i])]
    assert len(partial) >= 8  # the text really exercises byte tokens holding parts of characters
    streamer = RecordingStreamer(bpe_tokenizer, skip_prompt=True)
    streamer.put(torch.tensor([[ids[0]]]))  # the prompt, skipped
    for token in ids[1:]:
        streamer.put(torch.tensor([token]))
        so_far = "".join(streamer.pieces)
        assert "\ufffd" not in so_far
        assert TEXT[len(bpe_tokenizer.decode(ids[:1])) :].startswith(so_far)
    streamer.end()
    assert streamer.ended
    assert "".join(streamer.pieces) == bpe_tokenizer.decode(ids[1:])


def test_stdout_streamer_prints_exactly_the_generated_text(bpe_tokenizer, capsys):
    model = make_model("gpt2", vocab_size=bpe_tokenizer.vocab_size, eos_token_id=bpe_tokenizer.eos_token_id)
    prompt = torch.tensor([bpe_tokenizer.encode("The cat", add_bos=True)])
    out = model.generate(
        prompt,
        max_new_tokens=60,
        temperature=1.0,
        streamer=TextGenStdoutStreamer(bpe_tokenizer),
        generator=torch.Generator().manual_seed(0),
    )
    printed = capsys.readouterr().out
    assert printed == bpe_tokenizer.decode(out[0, prompt.size(1) :]) + "\n"
    assert len(printed) > 20


def test_stdout_streamer_with_prompt_writes_to_a_file(bpe_tokenizer):
    model = make_model("llama", vocab_size=bpe_tokenizer.vocab_size, eos_token_id=bpe_tokenizer.eos_token_id)
    prompt = torch.tensor([bpe_tokenizer.encode("猫が 🙂")])
    sink = io.StringIO()
    out = model.generate(
        prompt,
        max_new_tokens=40,
        do_sample=False,
        streamer=TextGenStdoutStreamer(bpe_tokenizer, skip_prompt=False, file=sink),
    )
    assert sink.getvalue() == bpe_tokenizer.decode(out[0]) + "\n"


def test_iterator_streamer_yields_text_to_another_thread(bpe_tokenizer):
    model = make_model("llama", vocab_size=bpe_tokenizer.vocab_size, eos_token_id=bpe_tokenizer.eos_token_id)
    prompt = torch.tensor([bpe_tokenizer.encode("The dog", add_bos=True)])
    streamer = TextIteratorStreamer(bpe_tokenizer, timeout=30)
    result = {}

    def run():
        result["ids"] = model.generate(
            prompt, max_new_tokens=50, temperature=1.2, streamer=streamer, generator=torch.Generator().manual_seed(1)
        )

    thread = threading.Thread(target=run)
    thread.start()
    pieces = list(streamer)
    thread.join()
    assert len(pieces) > 1
    assert "".join(pieces) == bpe_tokenizer.decode(result["ids"][0, prompt.size(1) :])


def test_iterator_streamer_timeout_and_batch_errors(bpe_tokenizer):
    with pytest.raises(queue.Empty):
        next(iter(TextIteratorStreamer(bpe_tokenizer, timeout=0.01)))
    streamer = RecordingStreamer(bpe_tokenizer, skip_prompt=False)
    with pytest.raises(ValueError, match="batch size 1"):
        streamer.put(torch.tensor([[1, 2], [3, 4]]))
    model = make_model("gpt2", vocab_size=bpe_tokenizer.vocab_size)
    with pytest.raises(ValueError, match="batch size 1"):
        model.generate(torch.tensor([[5, 6], [7, 8]]), max_new_tokens=2, streamer=streamer)


@pytest.fixture(scope="module")
def sentencepiece_tokenizer(corpus):
    from ailab.tokenizers import LlamaTokenizer

    return LlamaTokenizer.train(corpus, vocab_size=300)


def test_sentencepiece_continuations_keep_the_space_after_the_prompt(sentencepiece_tokenizer, capsys):
    tok = sentencepiece_tokenizer
    prompt = tok.encode("the cat sat", add_bos=True)
    new = tok.encode("the cat sat on a mat", add_bos=True)[len(prompt) :]
    assert tok.decode(new) == "on a mat"  # SentencePiece drops the first word's space when decoding on its own
    assert decode_continuation(tok, prompt, new) == " on a mat"

    streamer = TextGenStdoutStreamer(tok)
    streamer.put(torch.tensor([prompt]))
    for token in new:
        streamer.put(torch.tensor([token]))
    streamer.end()
    assert capsys.readouterr().out == " on a mat\n"


def test_generate_text_joins_onto_the_prompt_for_sentencepiece(sentencepiece_tokenizer):
    from ailab.generation import generate_text

    tok = sentencepiece_tokenizer
    model = make_model("llama", vocab_size=tok.vocab_size, eos_token_id=tok.eos_token_id)
    prompt = "the cat sat"
    text = generate_text(model, tok, prompt, max_new_tokens=12, temperature=0.0)
    sequence = model.generate(tok.encode(prompt, add_bos=True, return_tensors="pt"), max_new_tokens=12, do_sample=False)
    assert prompt + text == tok.decode(sequence[0])
