"""ailab's greedy generate equals transformers' `generate(do_sample=False)` token for token, on the same weights
exported with `export_hf`: both architectures, a single prompt and a left-padded batch."""

import pytest
import torch
from transformers import AutoModelForCausalLM

from ailab.models.hf import export_hf

from .conftest import ARCHS, make_model
from .test_generate import PROMPTS, left_padded

PAD = 0


@pytest.fixture(scope="module", params=ARCHS)
def models(request, tmp_path_factory):
    ours = make_model(request.param, eos_token_id=None)
    out_dir = export_hf(ours, tmp_path_factory.mktemp(request.param))
    theirs = AutoModelForCausalLM.from_pretrained(out_dir).eval()
    return ours, theirs


def hf_greedy(theirs, ids, mask=None, **kwargs):
    with torch.no_grad():
        return theirs.generate(
            ids,
            attention_mask=torch.ones_like(ids) if mask is None else mask,
            do_sample=False,
            pad_token_id=PAD,
            **kwargs,
        )


def test_single_prompt_matches_transformers(models):
    ours, theirs = models
    ids = torch.tensor(PROMPTS[:1])
    expected = hf_greedy(theirs, ids, max_new_tokens=64, min_new_tokens=64)
    assert torch.equal(ours.generate(ids, max_new_tokens=64, do_sample=False), expected)
    assert torch.equal(ours.generate(ids, max_new_tokens=64, do_sample=False, cache="static"), expected)


def test_left_padded_batch_matches_transformers(models):
    ours, theirs = models
    ids, mask = left_padded(PROMPTS, pad=PAD)
    expected = hf_greedy(theirs, ids, mask, max_new_tokens=40, min_new_tokens=40)
    assert torch.equal(ours.generate(ids, attention_mask=mask, max_new_tokens=40, do_sample=False), expected)


def test_repetition_penalty_and_per_row_eos_match_transformers(models):
    ours, theirs = models
    ids, mask = left_padded(PROMPTS, pad=PAD)
    free = ours.generate(ids, attention_mask=mask, max_new_tokens=30, do_sample=False, repetition_penalty=1.3)
    eos = int(free[1, ids.size(1) + 2])
    expected = hf_greedy(theirs, ids, mask, max_new_tokens=30, repetition_penalty=1.3, eos_token_id=eos)
    ours_out = ours.generate(
        ids,
        attention_mask=mask,
        max_new_tokens=30,
        do_sample=False,
        repetition_penalty=1.3,
        eos_token_id=eos,
        pad_token_id=PAD,
    )
    assert torch.equal(ours_out, expected)
    assert (expected[1, ids.size(1) + 3 :] == PAD).all()  # row 1 stopped at its EOS and was padded
