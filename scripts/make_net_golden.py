#!/usr/bin/env python3
"""Golden values for the Swift `Net` module, computed with PyTorch (needs torch; `make test` does not).

Builds a tiny model with fixed weights -- conv 1->2 (3x3, pad 1) -> BatchNorm2d -> ReLU -> MaxPool 2x2 ->
global average pool -> Linear 2->3 -- on a batch of 2 single-channel 8x8 inputs, and records:
  * the state (weights, biases, batch-norm gamma/beta and non-trivial running statistics), in Net's names;
  * one training-mode forward: logits, mean cross-entropy for hard labels, gradient w.r.t. the logits;
  * backward: every parameter gradient; the running statistics after the forward;
  * the updated parameters after one step of Adam, AdamW and SGD (momentum, weight decay) from those gradients;
  * evaluation-mode logits after the Adam step (running statistics, no dropout);
  * soft-target (mixup-style) cross-entropy loss and logit gradient on the same logits.
Writes Tests/NetTests/Golden/tiny_cnn.json (a few KB).

Usage: python3 scripts/make_net_golden.py
"""
import copy
import json
import pathlib

import torch
import torch.nn as nn

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "NetTests" / "Golden" / "tiny_cnn.json"

# torch Sequential index -> Net spec index (Net's global average pool already outputs [C], so no Flatten).
NAMES = {
    "0.weight": "0.conv.weight", "0.bias": "0.conv.bias",
    "1.weight": "1.bn.weight", "1.bias": "1.bn.bias",
    "1.running_mean": "1.bn.running_mean", "1.running_var": "1.bn.running_var",
    "6.weight": "5.linear.weight", "6.bias": "5.linear.bias",
}


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def build():
    torch.manual_seed(1234)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    with torch.no_grad():
        model[0].weight.copy_(torch.randn(2, 1, 3, 3) * 0.5)
        model[0].bias.copy_(torch.tensor([0.1, -0.05]))
        model[1].weight.copy_(torch.tensor([1.2, 0.8]))
        model[1].bias.copy_(torch.tensor([0.1, -0.2]))
        model[1].running_mean.copy_(torch.tensor([0.05, -0.1]))
        model[1].running_var.copy_(torch.tensor([0.9, 1.1]))
        model[6].weight.copy_(torch.randn(3, 2))
        model[6].bias.copy_(torch.tensor([0.01, -0.02, 0.03]))
    return model


def state_json(model, keys=None):
    out = {}
    for name, value in model.state_dict().items():
        if name in NAMES and (keys is None or NAMES[name] in keys):
            out[NAMES[name]] = tensor_json(value)
    return out


def step_with(optimizer_factory, model, grads):
    """One optimizer step on a copy of `model` whose gradients are `grads`; returns the updated parameters."""
    m = copy.deepcopy(model)
    for (name, p) in m.named_parameters():
        p.grad = grads[name].clone()
    opt = optimizer_factory(m.parameters())
    opt.step()
    return {NAMES[n]: tensor_json(p) for n, p in m.named_parameters()}


def main():
    torch.set_num_threads(1)
    model = build()
    initial_state = state_json(model)
    torch.manual_seed(99)
    x = torch.randn(2, 1, 8, 8)
    labels = torch.tensor([0, 2])

    model.train()
    logits = model(x)
    logits.retain_grad()
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    running_after = {k: v for k, v in state_json(model).items() if "running" in k}

    lr = 0.01
    adam = step_with(lambda ps: torch.optim.Adam(ps, lr=lr), model, grads)
    adamw = step_with(lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=0.05), model, grads)
    sgd = step_with(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3), model, grads)

    # Evaluation logits after the Adam step (running statistics as updated by the training forward).
    evaluated = copy.deepcopy(model)
    with torch.no_grad():
        for n, p in evaluated.named_parameters():
            p.copy_(torch.tensor(adam[NAMES[n]]["data"]).reshape(p.shape))
    evaluated.eval()
    with torch.no_grad():
        eval_logits = evaluated(x)

    # Soft targets (mixup of the two labels with lambda 0.7 and 0.4) on the same logits.
    soft = torch.tensor([[0.7, 0.0, 0.3], [0.0, 0.6, 0.4]])
    soft_logits = logits.detach().clone().requires_grad_(True)
    soft_loss = nn.functional.cross_entropy(soft_logits, soft)
    soft_loss.backward()

    golden = {
        "generator": "scripts/make_net_golden.py",
        "torch_version": torch.__version__,
        "spec": {"inputShape": [1, 8, 8], "classes": 3},
        "input": tensor_json(x),
        "labels": labels.tolist(),
        "state": initial_state,
        "logits": tensor_json(logits),
        "loss": loss.item(),
        "grad_logits": tensor_json(logits.grad),
        "grads": {NAMES[n]: tensor_json(g) for n, g in grads.items()},
        "running_after": running_after,
        "adam": {"lr": lr, "params": adam},
        "adamw": {"lr": lr, "weight_decay": 0.05, "params": adamw},
        "sgd": {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3, "params": sgd},
        "eval_logits_after_adam": tensor_json(eval_logits),
        "soft": {"targets": tensor_json(soft), "loss": soft_loss.item(), "grad": tensor_json(soft_logits.grad)},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
