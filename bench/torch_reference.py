# Same-machine PyTorch reference for the ONNX benchmark (optional; not part of the test suite).
# Captum's IntegratedGradients is, at its core, forward+backward over the scaled inputs in chunks;
# this times exactly that on torchvision's resnet18 with 2 threads, so clarus's IG time can be
# compared with PyTorch in the same session. Needs Debian's python3-torch and python3-torchvision:
#   /usr/bin/python3 bench/torch_reference.py
import time
import torch
import torchvision

torch.set_num_threads(2)
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10).eval()
x = torch.rand(1, 3, 224, 224)


def med(f, n=3):
    f()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]


def fwd_bwd(batch):
    xs = x.repeat(batch, 1, 1, 1).requires_grad_(True)
    out = model(xs)[:, 3].sum()
    torch.autograd.grad(out, xs)


def ig_like(steps, chunk):
    alphas = torch.linspace(0, 1, steps)
    for i in range(0, steps, chunk):
        a = alphas[i:i + chunk].view(-1, 1, 1, 1)
        xs = (a * x).requires_grad_(True)
        torch.autograd.grad(model(xs)[:, 3].sum(), xs)


with torch.no_grad():
    print(f'torch forward batch 1: {med(lambda: model(x)):.4f} s')
print(f'torch forward+backward batch 1: {med(lambda: fwd_bwd(1)):.4f} s')
print(f'torch forward+backward batch 10: {med(lambda: fwd_bwd(10)):.4f} s')
print(f'torch IG core, 50 steps, chunks of 10: {med(lambda: ig_like(50, 10)):.3f} s')
print(f'torch IG core, 50 steps, one chunk: {med(lambda: ig_like(50, 50)):.3f} s')
