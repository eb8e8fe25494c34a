# Real Captum, driven by bench/captumSideBySide.ts so the two libraries alternate in one run
# (optional; never part of the test suite or the package). Reads one JSON request per line on stdin,
# answers one JSON line on stdout:
#   {"case": "<name>", "repeats": k}  ->  {"seconds": [t1, …, tk]}   (or {"error": "…"})
# The cases are the same computations bench/captumSideBySide.ts runs in clarus, on the reference
# resnet18 (torchvision resnet18(num_classes=10), torch.manual_seed(0), eval: how
# ../shared/reference made it) and the deterministic image of bench/onnx.ts, 2 threads.
# Needs Debian's python3-torch and python3-torchvision, and Captum's source on PYTHONPATH
# (a checkout of https://github.com/pytorch/captum, v0.8.0):
#   PYTHONPATH=<captum checkout> /usr/bin/python3 bench/captum_server.py
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
from captum.attr import (DeepLift, FeatureAblation, GradientShap, IntegratedGradients, LayerGradCam, NoiseTunnel,
                         Occlusion, Saliency, ShapleyValueSampling)

torch.set_num_threads(2)
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10).eval()
i = np.arange(3 * 224 * 224, dtype=np.uint64)
x = torch.from_numpy((((i * np.uint64(2654435761)) % np.uint64(1000)).astype(np.float64) / 1000).astype(np.float32).reshape(1, 3, 224, 224))
TARGET = 3
# 196 superpixels of 16×16, shared by the channels (bench/perturbation.ts)
p = np.arange(224 * 224)
mask = torch.from_numpy(((p // 224) // 16 * 14 + (p % 224) // 16).reshape(1, 1, 224, 224))
j = np.arange(4 * 3 * 224 * 224, dtype=np.uint64)
background = torch.from_numpy((((j * np.uint64(40503)) % np.uint64(997)).astype(np.float64) / 997).astype(np.float32).reshape(4, 3, 224, 224))


class OwnRelus(nn.Module):
    """resnet18 with a separate ReLU module per use (torchvision reuses one per block, which Captum's
    DeepLift rejects); same weights, same function."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
            for block in layer:
                block.relu2 = nn.ReLU()
                block.forward = self._block_forward(block)

    @staticmethod
    def _block_forward(b):
        def forward(t):
            identity = b.downsample(t) if b.downsample is not None else t
            out = b.relu(b.bn1(b.conv1(t)))
            out = b.bn2(b.conv2(out))
            return b.relu2(out + identity)
        return forward

    def forward(self, t):
        return self.net(t)


own = OwnRelus(torchvision.models.resnet18(num_classes=10).eval())
own.net.load_state_dict(model.state_dict())
own.eval()

# the reference cnn, rebuilt from its weights file (../shared/reference/models/cnn.weights.json),
# and the deterministic input of bench/adaptiveIg.ts (salt 7), target 2
class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16, 5)

    def forward(self, t):
        t = torch.max_pool2d(torch.relu(self.conv1(t)), 2)
        t = torch.nn.functional.adaptive_avg_pool2d(torch.relu(self.conv2(t)), 1)
        return self.fc(torch.flatten(t, 1))


cnn = Cnn().eval()
with open('../shared/reference/models/cnn.weights.json') as f:
    params = json.load(f)['parameters']
cnn.load_state_dict({k: torch.tensor(v['data'], dtype=torch.float32) for k, v in params.items()})
k = np.arange(3 * 32 * 32, dtype=np.uint64)
x_cnn = torch.from_numpy(((((k + np.uint64(7)) * np.uint64(2654435761)) % np.uint64(1000)).astype(np.float64) / 1000).astype(np.float32).reshape(1, 3, 32, 32))
CNN_TARGET = 2

# the reference mlp, rebuilt from its weights file, and bench/smallModel.ts's batch of 16 (sin(0.37 i)), target 1
class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, 3)

    def forward(self, t):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(t)))))


mlp = Mlp().eval()
with open('../shared/reference/models/mlp.weights.json') as f:
    mlp.load_state_dict({k: torch.tensor(v['data'], dtype=torch.float32) for k, v in json.load(f)['parameters'].items()})
x_mlp = torch.sin(torch.arange(16 * 12, dtype=torch.float64) * 0.37).float().reshape(16, 12)


def batch_of(n):
    # n copies of the image, each shifted so the rows differ (bench/captumSideBySide.ts builds the same)
    return torch.cat([torch.roll(x, shifts=k, dims=3) for k in range(n)], 0)


CASES = {
    'mlp.ig50.b16': lambda: IntegratedGradients(mlp).attribute(x_mlp, target=1, n_steps=50),
    'cnn.ig50': lambda: IntegratedGradients(cnn).attribute(x_cnn, target=CNN_TARGET, n_steps=50),
    'cnn.ig50.ibs10': lambda: IntegratedGradients(cnn).attribute(x_cnn, target=CNN_TARGET, n_steps=50, internal_batch_size=10),
    'ig50': lambda: IntegratedGradients(model).attribute(x, target=TARGET, n_steps=50),
    'ig50.ibs10': lambda: IntegratedGradients(model).attribute(x, target=TARGET, n_steps=50, internal_batch_size=10),
    'ig50.ibs25': lambda: IntegratedGradients(model).attribute(x, target=TARGET, n_steps=50, internal_batch_size=25),
    **{f'ig{n}.ibs10': (lambda n=n: lambda: IntegratedGradients(model).attribute(x, target=TARGET, n_steps=n, internal_batch_size=10))() for n in (10, 200, 1000)},
    **{f'ig50.batch{b}': (lambda b=b: lambda: IntegratedGradients(model).attribute(batch_of(b), target=TARGET, n_steps=50, internal_batch_size=10 * b))() for b in (1, 4, 8)},
    'saliency': lambda: Saliency(model).attribute(x, target=TARGET),
    'occlusion.ppe8': lambda: Occlusion(model).attribute(x, target=TARGET, sliding_window_shapes=(3, 32, 32), strides=(3, 16, 16), perturbations_per_eval=8),
    'occlusion.ppe16': lambda: Occlusion(model).attribute(x, target=TARGET, sliding_window_shapes=(3, 32, 32), strides=(3, 16, 16), perturbations_per_eval=16),
    'ablation.ppe16': lambda: FeatureAblation(model).attribute(x, target=TARGET, feature_mask=mask, perturbations_per_eval=16),
    'ablation.ppe32': lambda: FeatureAblation(model).attribute(x, target=TARGET, feature_mask=mask, perturbations_per_eval=32),
    'svs.2': lambda: ShapleyValueSampling(model).attribute(x, target=TARGET, feature_mask=mask, n_samples=2, perturbations_per_eval=16),
    'deeplift': lambda: DeepLift(own).attribute(x, target=TARGET),
    'gradcam.layer4': lambda: LayerGradCam(model, model.layer4).attribute(x, target=TARGET),
    'smoothgrad50': lambda: NoiseTunnel(Saliency(model)).attribute(x, target=TARGET, nt_type='smoothgrad', nt_samples=50, stdevs=0.1, nt_samples_batch_size=10),
    'gradientshap50': lambda: GradientShap(model).attribute(x, target=TARGET, baselines=background, n_samples=50),
}

for line in sys.stdin:
    req = json.loads(line)
    case = CASES.get(req.get('case'))
    if case is None:
        print(json.dumps({'error': f"unknown case {req.get('case')!r}; known: {sorted(CASES)}"}), flush=True)
        continue
    try:
        secs = []
        for _ in range(int(req.get('repeats', 1))):
            t0 = time.perf_counter()
            case()
            secs.append(time.perf_counter() - t0)
        print(json.dumps({'seconds': secs, 'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    except Exception as e:  # report, keep serving
        print(json.dumps({'error': f'{type(e).__name__}: {e}'}), flush=True)
