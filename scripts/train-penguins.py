# Trains the small penguin-species classifier that examples/explain-penguins.ts explains, on the
# Palmer penguins table as shipped in the npm package vega-datasets@3.2.1 (data/penguins.json, a
# copy in examples/assets/penguins/; the data is CC0-1.0, Gorman et al. / palmerpenguins).
#
# Not part of the test suite. Needs Debian's python3-torch (and python3-onnx to check the export):
#   /usr/bin/python3 scripts/train-penguins.py examples/assets/penguins
#
# Features: bill length, bill depth, flipper length and body mass, island one-hot (3 columns) and
# sex one-hot (2 columns): 9 columns, each standardised with the training split's mean and
# standard deviation, so the all-zeros row is the average training penguin. Rows with a missing
# value (or the one sex recorded as ".") are dropped. A seeded, stratified 80/20 split holds out the
# test rows; the model is an MLP 9-16-3 with ReLU that outputs logits (no softmax).
#
# Writes penguins.onnx (input "features" float32 [N, 9] -> output "logits" float32 [N, 3], opset
# 13) and penguins.meta.json (column names, feature groups, mean, std, class names, the test rows'
# indices into penguins.json and the test accuracy printed below).
import json
import os
import sys

import torch
import torch.nn as nn

DIR = sys.argv[1] if len(sys.argv) > 1 else 'examples/assets/penguins'
SEED, HIDDEN, EPOCHS, LR, WD = 0, 16, 600, 0.01, 1e-3
torch.manual_seed(SEED)
torch.set_num_threads(1)

NUMERIC = [('Beak Length (mm)', 'bill length'), ('Beak Depth (mm)', 'bill depth'),
           ('Flipper Length (mm)', 'flipper length'), ('Body Mass (g)', 'body mass')]
ISLANDS = ['Biscoe', 'Dream', 'Torgersen']
SEXES = ['FEMALE', 'MALE']
CLASSES = ['Adelie', 'Chinstrap', 'Gentoo']

rows = json.load(open(os.path.join(DIR, 'penguins.json')))


def complete(r):
    return all(r[k] is not None for k, _ in NUMERIC) and r['Island'] in ISLANDS and r['Sex'] in SEXES


kept = [i for i, r in enumerate(rows) if complete(r)]
X = torch.tensor([[float(rows[i][k]) for k, _ in NUMERIC]
                  + [1.0 if rows[i]['Island'] == s else 0.0 for s in ISLANDS]
                  + [1.0 if rows[i]['Sex'] == s else 0.0 for s in SEXES] for i in kept], dtype=torch.float64)
y = torch.tensor([CLASSES.index(rows[i]['Species']) for i in kept])
print(f'{len(rows)} rows, {len(kept)} without missing values')

# stratified split: a fifth of each species, chosen by a seeded permutation
g = torch.Generator().manual_seed(SEED)
test_pos = []
for c in range(len(CLASSES)):
    members = (y == c).nonzero().flatten()
    members = members[torch.randperm(len(members), generator=g)]
    test_pos += members[: round(0.2 * len(members))].tolist()
test_pos = sorted(test_pos)
train_pos = sorted(set(range(len(kept))) - set(test_pos))

mean = X[train_pos].mean(0)
std = X[train_pos].std(0)
Z = ((X - mean) / std).float()

model = nn.Sequential(nn.Linear(9, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, len(CLASSES)))
opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WD)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(EPOCHS):
    opt.zero_grad()
    loss = loss_fn(model(Z[train_pos]), y[train_pos])
    loss.backward()
    opt.step()
model.eval()
with torch.no_grad():
    pred = model(Z).argmax(1)
train_acc = float((pred[train_pos] == y[train_pos]).float().mean())
correct = int((pred[test_pos] == y[test_pos]).sum())
print(f'final training loss {float(loss):.4f}, training accuracy {train_acc:.4f}')
print(f'test accuracy {correct}/{len(test_pos)} = {correct / len(test_pos):.4f}')

os.makedirs(DIR, exist_ok=True)
onnx_path = os.path.join(DIR, 'penguins.onnx')
torch.onnx.export(model, (Z[:2],), onnx_path, input_names=['features'], output_names=['logits'],
                  dynamic_axes={'features': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)

columns = [name for _, name in NUMERIC] + [f'island={s}' for s in ISLANDS] + [f'sex={s.lower()}' for s in SEXES]
meta = {
    'source': 'vega-datasets@3.2.1 data/penguins.json (CC0-1.0, Gorman et al. / palmerpenguins)',
    'columns': columns,
    'numeric': [k for k, _ in NUMERIC],
    'islands': ISLANDS,
    'sexes': SEXES,
    'groups': [[0], [1], [2], [3], [4, 5, 6], [7, 8]],
    'groupNames': [name for _, name in NUMERIC] + ['island', 'sex'],
    'mean': [float(v) for v in mean],
    'std': [float(v) for v in std],
    'classes': CLASSES,
    'seed': SEED,
    'trainRows': len(train_pos),
    'testRows': [kept[p] for p in test_pos],
    'testCorrect': correct,
    'testAccuracy': correct / len(test_pos),
}
with open(os.path.join(DIR, 'penguins.meta.json'), 'w') as f:
    # one key a line, values compact
    f.write('{\n' + ',\n'.join(f' {json.dumps(k)}: {json.dumps(v)}' for k, v in meta.items()) + '\n}\n')

try:
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    print('onnx ops:', sorted({n.op_type for n in m.graph.node}), 'opset', m.opset_import[0].version)
except ImportError:
    pass
print(f'wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes) and penguins.meta.json')
