#!/usr/bin/env python3
"""Golden values for the Swift `Net` module's model variants (residual blocks, global average+max pooling),
computed with PyTorch (needs torch; `make test` does not).

The model, in Net's spec terms (index: layer):
  0: residualBlock(outChannels: 3, kernel: 3)   1 -> 3 channels: projection shortcut (1x1 conv + BN)
  1: maxPool2d(kernel: 2, stride: 2)
  2: residualBlock(outChannels: 3, kernel: 3)   3 -> 3 channels: identity shortcut
  3: globalAverageMaxPool                       [3, 4, 4] -> [6]: the 3 means, then the 3 maxima
  4: linear(outFeatures: 4)
on a batch of 3 single-channel 8x8 inputs, with fixed non-trivial weights, batch-norm affine parameters and
running statistics. The PyTorch module `ResidualBlock` below has the attributes conv1, bn1, conv2, bn2,
shortcut_conv, shortcut_bn: its state dict maps 1:1 onto Net's names by turning the prefix "<i>." into
"<i>.residual." (and "<i>." into "<i>.linear." for the linear layer); num_batches_tracked is not used by Net.

Records: the state in Net's names; one training-mode forward (logits, mean cross-entropy for hard labels, the
gradient w.r.t. the logits); backward (every parameter gradient and the gradient w.r.t. the input); the running
statistics after the forward; evaluation-mode logits after that forward (running statistics as updated).
Writes Tests/NetTests/Golden/residual_average_max.json (about 20 KB).

Usage: python3 scripts/make_variant_golden.py
"""
import json
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "NetTests" / "Golden" / "residual_average_max.json"


class ResidualBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); shortcut = identity or 1x1 conv (with bias) + BN."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, k, padding=k // 2)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, k, padding=k // 2)
        self.bn2 = nn.BatchNorm2d(cout)
        if cin != cout:
            self.shortcut_conv = nn.Conv2d(cin, cout, 1)
            self.shortcut_bn = nn.BatchNorm2d(cout)
        else:
            self.shortcut_conv = None

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = x if self.shortcut_conv is None else self.shortcut_bn(self.shortcut_conv(x))
        return F.relu(y + s)


class GlobalAverageMax(nn.Module):
    """[N, C, H, W] -> [N, 2C]: per-channel means, then per-channel maxima."""

    def forward(self, x):
        return torch.cat([x.mean(dim=(2, 3)), F.adaptive_max_pool2d(x, 1).flatten(1)], dim=1)


KINDS = {0: "residual", 2: "residual", 4: "linear"}


def net_name(torch_name):
    index, rest = torch_name.split(".", 1)
    return f"{index}.{KINDS[int(index)]}.{rest}"


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def build():
    torch.manual_seed(4321)
    model = nn.Sequential(
        ResidualBlock(1, 3, 3), nn.MaxPool2d(2, 2), ResidualBlock(3, 3, 3), GlobalAverageMax(), nn.Linear(6, 4))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("conv1.weight") or name.endswith("conv2.weight") or name.endswith("shortcut_conv.weight"):
                p.copy_(torch.randn(p.shape) * 0.5)
            elif ".bn" in name or "shortcut_bn" in name:
                if name.endswith("weight"):
                    p.copy_(1 + 0.3 * torch.randn(p.shape))
                else:
                    p.copy_(0.2 * torch.randn(p.shape))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape))
            else:
                p.copy_(torch.randn(p.shape) * 0.6)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape))
            elif name.endswith("running_var"):
                b.copy_(0.8 + 0.4 * torch.rand(b.shape))
    return model


def state_json(model, running_only=False):
    return {net_name(n): tensor_json(v) for n, v in model.state_dict().items()
            if not n.endswith("num_batches_tracked") and (not running_only or "running" in n)}


def main():
    torch.set_num_threads(1)
    model = build()
    initial_state = state_json(model)
    torch.manual_seed(77)
    x = torch.randn(3, 1, 8, 8).requires_grad_(True)
    labels = torch.tensor([1, 3, 0])

    model.train()
    logits = model(x)
    logits.retain_grad()
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    running_after = state_json(model, running_only=True)
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)

    golden = {
        "generator": "scripts/make_variant_golden.py",
        "torch_version": torch.__version__,
        "spec": {"inputShape": [1, 8, 8], "classes": 4},
        "input": tensor_json(x),
        "labels": labels.tolist(),
        "state": initial_state,
        "logits": tensor_json(logits),
        "loss": loss.item(),
        "grad_logits": tensor_json(logits.grad),
        "grads": {net_name(n): tensor_json(p.grad) for n, p in model.named_parameters()},
        "grad_input": tensor_json(x.grad),
        "running_after": running_after,
        "eval_logits": tensor_json(eval_logits),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
