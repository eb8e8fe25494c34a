# Real Captum's LayerGradCam on resnet18's layer4, side by side with clarus (optional; never part of
# the test suite). Rebuilds the reference resnet18 exactly as ../shared/reference made it
# (torchvision resnet18(num_classes=10), torch.manual_seed(0), eval), feeds the same deterministic
# image as bench/onnx.ts, and writes Captum's maps (raw 7×7, and upsampled to 224×224 with
# LayerAttribution.interpolate, nearest and bilinear) to a JSON file that bench/gradCamParity.ts reads.
# Needs Debian's python3-torch and python3-torchvision, and Captum's source on PYTHONPATH:
#   PYTHONPATH=<captum checkout> /usr/bin/python3 bench/captum_gradcam.py out/captum-gradcam.json
import json
import sys

import numpy as np
import torch
import torchvision
from captum.attr import LayerAttribution, LayerGradCam

torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10).eval()
i = np.arange(3 * 224 * 224, dtype=np.uint64)
x = torch.from_numpy((((i * np.uint64(2654435761)) % np.uint64(1000)).astype(np.float64) / 1000).astype(np.float32).reshape(1, 3, 224, 224))
out = {}
for relu in (False, True):
    cam = LayerGradCam(model, model.layer4).attribute(x, target=3, relu_attributions=relu)
    key = 'relu' if relu else 'signed'
    out[key] = {'shape': list(cam.shape), 'data': cam.detach().flatten().tolist()}
    for mode in ('nearest', 'bilinear'):
        up = LayerAttribution.interpolate(cam, (224, 224), interpolate_mode=mode)
        out[f'{key}.{mode}'] = {'shape': list(up.shape), 'data': up.detach().flatten().tolist()}
out['logits'] = model(x).detach().flatten().tolist()
json.dump(out, open(sys.argv[1] if len(sys.argv) > 1 else 'out/captum-gradcam.json', 'w'))
print('wrote', sys.argv[1] if len(sys.argv) > 1 else 'out/captum-gradcam.json')
