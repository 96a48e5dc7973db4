"""Tokenizers: byte-level BPE, stripped ASCII characters and SentencePiece (LLaMA), behind one `Tokenizer` interface."""

from ailab.tokenizers.base import Tokenizer
from ailab.tokenizers.bpe import BpeTokenizer, TinyStoriesBpe8kTokenizer
from ailab.tokenizers.llama_sentencepiece import LlamaTokenizer
from ailab.tokenizers.loading import TOKENIZER_KINDS, load_tokenizer, train_tokenizer
from ailab.tokenizers.stripped_ascii import StrippedAsciiTokenizer

__all__ = [
    "TOKENIZER_KINDS",
    "BpeTokenizer",
    "LlamaTokenizer",
    "StrippedAsciiTokenizer",
    "TinyStoriesBpe8kTokenizer",
    "Tokenizer",
    "load_tokenizer",
    "train_tokenizer",
]
