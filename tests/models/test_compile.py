"""torch.compile traces the training forward pass of both models as one graph (no graph breaks).

Inductor code generation takes minutes on this shared 2-core CPU, so the test compiles with the "aot_eager"
backend: Dynamo must capture the whole forward (fullgraph=True fails on any break) and AOTAutograd must trace its
backward, which is what Inductor would then compile.
"""

import pytest
import torch

from ailab.models import GPT2Config, LlamaConfig, build_model


@pytest.mark.parametrize("arch, fields", [("gpt2", GPT2Config.presets["tiny"]), ("llama", LlamaConfig.presets["tiny"])])
def test_training_forward_compiles_without_graph_breaks(arch, fields):
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = build_model(arch, **dict(fields, n_layers=1, dropout=0.1)).train()
    x = torch.randint(0, 512, (2, 16), generator=torch.Generator().manual_seed(1))
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    torch.manual_seed(2)
    loss = compiled(x, labels=x).loss
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    torch.manual_seed(2)
    eager_loss = model(x, labels=x).loss
    eager_loss.backward()
    torch.testing.assert_close(loss, eager_loss)
    for name, p in model.named_parameters():
        torch.testing.assert_close(grads[name], p.grad, msg=name)
