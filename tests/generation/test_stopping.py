"""Stopping criteria row by row, stop strings on decoded text, and generate_text cutting the stop string."""

import time

import pytest
import torch

from ailab.generation import (
    EosTokenCriteria,
    MaxNewTokensCriteria,
    StoppingCriteriaList,
    StopStringCriteria,
    generate_text,
)
from ailab.generation.stopping import MaxTimeCriteria, truncate_at_stop_string

from .conftest import make_model


def test_eos_criteria_is_per_row():
    ids = torch.tensor([[4, 5, 2], [4, 2, 6], [9, 9, 7]])
    assert EosTokenCriteria(2)(ids, 1).tolist() == [True, False, False]
    assert EosTokenCriteria([2, 7])(ids, 1).tolist() == [True, False, True]
    with pytest.raises(ValueError, match="eos_token_id"):
        EosTokenCriteria([])


def test_max_new_tokens_time_and_any_of_a_list():
    ids = torch.zeros(2, 5, dtype=torch.long)
    assert MaxNewTokensCriteria(3)(ids, 2).tolist() == [False, False]
    assert MaxNewTokensCriteria(3)(ids, 3).tolist() == [True, True]
    assert MaxTimeCriteria(1.0, start_time=time.monotonic() - 2)(ids, 1).tolist() == [True, True]
    assert MaxTimeCriteria(60.0)(ids, 1).tolist() == [False, False]
    both = StoppingCriteriaList([MaxNewTokensCriteria(10), EosTokenCriteria(0)])
    assert both(torch.tensor([[1, 0], [0, 1]]), 1).tolist() == [True, False]


def test_stop_string_is_looked_for_in_new_tokens_only(bpe_tokenizer):
    prompt = bpe_tokenizer.encode("the end is near")
    new = bpe_tokenizer.encode(" and the cat 🙂 sat")
    criteria = StopStringCriteria(bpe_tokenizer, ["end", "🙂"])
    seen = []
    for n in range(1, len(new) + 1):
        seen.append(bool(criteria(torch.tensor([prompt + new[:n]]), n)[0]))
    first = seen.index(True)
    assert all(seen[first:])
    assert "🙂" in bpe_tokenizer.decode(new[: first + 1]) and "🙂" not in bpe_tokenizer.decode(new[:first])
    with pytest.raises(ValueError, match="stop_strings"):
        StopStringCriteria(bpe_tokenizer, [""])


def test_truncate_at_stop_string():
    assert truncate_at_stop_string("a cat. The end", ["end", "."]) == "a cat"
    assert truncate_at_stop_string("no stop here", ["xyz"]) == "no stop here"


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_generation_stops_at_the_token_completing_a_stop_string(bpe_tokenizer, arch):
    model = make_model(arch, vocab_size=bpe_tokenizer.vocab_size, eos_token_id=bpe_tokenizer.eos_token_id, std=0.1)
    prompt = "The cat"
    ids = torch.tensor([bpe_tokenizer.encode(prompt, add_bos=True)])
    T = ids.size(1)
    settings = dict(max_new_tokens=60, temperature=1.0, eos_token_id=[])
    free = model.generate(ids, generator=torch.Generator().manual_seed(0), **settings)[0, T:].tolist()
    free_text = bpe_tokenizer.decode(free)
    start = next(i for i in range(10, len(free_text)) if "\ufffd" not in free_text[i : i + 3])
    stop = free_text[start : start + 3]
    # The expected stop: the first token after which the decoded new text contains the stop string.
    k = next(n for n in range(1, len(free) + 1) if stop in bpe_tokenizer.decode(free[:n]))

    stopped = model.generate(
        ids, generator=torch.Generator().manual_seed(0), stop_strings=stop, tokenizer=bpe_tokenizer, **settings
    )
    assert stopped[0, T:].tolist() == free[:k]

    model.config.eos_token_id = None  # generate_text stops on the model's EOS; here only the stop string may stop it
    text = generate_text(model, bpe_tokenizer, prompt, max_new_tokens=60, temperature=1.0, seed=0, stop_strings=[stop])
    assert text == free_text[: free_text.index(stop)]
    assert stop not in text
