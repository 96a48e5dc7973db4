"""Tokenizers: byte-level BPE (and a pre-trained TinyStories one), stripped ASCII characters and SentencePiece (LLaMA),
behind one `Tokenizer` interface."""

from ailab.tokenizers.base import Tokenizer
from ailab.tokenizers.bpe import BpeTokenizer, TinyStoriesBpe8kTokenizer
from ailab.tokenizers.llama_sentencepiece import LlamaTokenizer
from ailab.tokenizers.loading import FIXED_KINDS, TOKENIZER_KINDS, check_vocab_size, load_tokenizer, train_tokenizer
from ailab.tokenizers.stripped_ascii import StrippedAsciiTokenizer

__all__ = [
    "FIXED_KINDS",
    "TOKENIZER_KINDS",
    "BpeTokenizer",
    "LlamaTokenizer",
    "StrippedAsciiTokenizer",
    "TinyStoriesBpe8kTokenizer",
    "Tokenizer",
    "check_vocab_size",
    "load_tokenizer",
    "train_tokenizer",
]
