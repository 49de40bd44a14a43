#!/usr/bin/env python3
"""Golden values for the musicnn layers of the Swift `Net` module, computed with PyTorch (needs torch; `make test`
does not).

A small network with every layer kind the musicnn "MSD_vgg" import needs, in GenreKit's NCHW layout and layer
order (the indices are Net's spec indices):
   0 BatchNorm2d(1, eps 0.001)                       (Net: batchNorm2dEpsilon(0.001), the input normalisation)
   1 Conv2d(1, 3, 3, pad 1)   2 ReLU   3 BatchNorm2d(3, eps 0.001)   4 MaxPool2d((1, 4), (2, 2))   (maxPool2dRect)
   5 Conv2d(3, 4, 3, pad 1)   6 ReLU   7 BatchNorm2d(4, eps 0.001)   8 MaxPool2d(2, 2)
   9 Conv2d(4, 3, 3, pad 1)  10 ReLU  11 BatchNorm2d(3)              12 MaxPool2d((3, 2), (1, 2))
  13 Flatten (channel slowest)
  14 Linear(6, 4) with its sigmoid appended to its input: [x, sigmoid(W x + b)]   (linearSigmoidAppended)
  15 Linear(10, 3)
on a batch of 3 single-channel 13x22 inputs (no dropout: its masks are framework-specific). Records the state
(non-trivial running statistics, one negative batch-norm gamma), evaluation-mode logits, one training-mode
forward (logits, mean cross-entropy, its gradient), every parameter gradient, and the running statistics after it.
Writes Tests/NetTests/Golden/musicnn_layers.json (about 36 KB).

Usage: python3 scripts/make_musicnn_layer_golden.py
"""
import json
import pathlib

import torch
import torch.nn as nn

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "NetTests" / "Golden" / "musicnn_layers.json"


class LinearSigmoidAppended(nn.Module):
    def __init__(self, inputs, outputs):
        super().__init__()
        self.linear = nn.Linear(inputs, outputs)

    def forward(self, x):
        return torch.cat([x, torch.sigmoid(self.linear(x))], dim=1)


def build():
    torch.manual_seed(2024)
    model = nn.Sequential(
        nn.BatchNorm2d(1, eps=0.001),
        nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(3, eps=0.001), nn.MaxPool2d((1, 4), (2, 2)),
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(4, eps=0.001), nn.MaxPool2d(2, 2),
        nn.Conv2d(4, 3, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(3), nn.MaxPool2d((3, 2), (1, 2)),
        nn.Flatten(), LinearSigmoidAppended(6, 4), nn.Linear(10, 3))
    with torch.no_grad():
        for module in model:
            if isinstance(module, nn.BatchNorm2d):
                c = module.num_features
                module.weight.copy_(torch.rand(c) + 0.5)
                module.bias.copy_(torch.randn(c) * 0.2)
                module.running_mean.copy_(torch.randn(c) * 0.1)
                module.running_var.copy_(torch.rand(c) + 0.5)
        model[3].weight[1] = -0.7  # a negative gamma: evaluation pools by minimum there
        model[1].weight.mul_(2.0)
    return model


def net_name(index, module, role):
    kind = {nn.BatchNorm2d: "bn", nn.Conv2d: "conv", nn.Linear: "linear", LinearSigmoidAppended: "linear"}[type(module)]
    return f"{index}.{kind}.{role}"


def named_tensors(model, kinds=("weight", "bias", "running_mean", "running_var")):
    out = {}
    for index, module in enumerate(model):
        source = module.linear if isinstance(module, LinearSigmoidAppended) else module
        for role in kinds:
            value = getattr(source, role, None)
            if isinstance(value, torch.Tensor):
                out[net_name(index, module, role)] = value
    return out


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def main():
    model = build()
    x = torch.randn(3, 1, 13, 22)
    labels = [2, 0, 1]
    state = {name: tensor_json(value) for name, value in named_tensors(model).items()}
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    model.train()
    logits = model(x)
    logits.retain_grad()
    loss = nn.functional.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    grads = {name: tensor_json(value.grad) for name, value in named_tensors(model, ("weight", "bias")).items()}
    running = {name: tensor_json(value) for name, value in named_tensors(model, ("running_mean", "running_var")).items()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "torch_version": torch.__version__, "input": tensor_json(x), "labels": labels, "state": state,
        "eval_logits": tensor_json(eval_logits), "logits": tensor_json(logits), "loss": float(loss.detach()),
        "grad_logits": tensor_json(logits.grad), "grads": grads, "running_after": running,
    }))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
