"""Text generation for every ailab model: KV caches, logits processors (samplers), stopping criteria, streamers.

ids = tokenizer.encode("Once upon a time", return_tensors="pt")
out = model.generate(ids, max_new_tokens=50, temperature=0.8, top_p=0.9)
text = generate_text(model, tokenizer, "Once upon a time", max_new_tokens=50, seed=1)
fast = model.generate(ids, max_new_tokens=50, do_sample=False, compile=True)  # static cache, compiled step
"""

from .decoding import (
    STOP_CHECK_INTERVAL,
    GenerateOutput,
    choose_next_token,
    compiled_decode_step,
    decode_one_token,
    generate_tokens,
    prefill,
)
from .kv_cache import DynamicKVCache, KVCache, StaticKVCache
from .logits_process import (
    LogitsProcessor,
    LogitsProcessorList,
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    build_logits_processors,
)
from .mixin import GenerationMixin
from .stopping import (
    EosTokenCriteria,
    MaxNewTokensCriteria,
    MaxTimeCriteria,
    StoppingCriteria,
    StoppingCriteriaList,
    StopStringCriteria,
)
from .streamers import BaseStreamer, TextGenStdoutStreamer, TextIteratorStreamer, TextStreamer
from .text import generate_text

__all__ = [
    "STOP_CHECK_INTERVAL",
    "BaseStreamer",
    "DynamicKVCache",
    "EosTokenCriteria",
    "GenerateOutput",
    "GenerationMixin",
    "KVCache",
    "LogitsProcessor",
    "LogitsProcessorList",
    "MaxNewTokensCriteria",
    "MaxTimeCriteria",
    "MinPLogitsWarper",
    "RepetitionPenaltyLogitsProcessor",
    "StaticKVCache",
    "StopStringCriteria",
    "StoppingCriteria",
    "StoppingCriteriaList",
    "TemperatureLogitsWarper",
    "TextGenStdoutStreamer",
    "TextIteratorStreamer",
    "TextStreamer",
    "TopKLogitsWarper",
    "TopPLogitsWarper",
    "build_logits_processors",
    "choose_next_token",
    "compiled_decode_step",
    "decode_one_token",
    "generate_text",
    "generate_tokens",
    "prefill",
]
