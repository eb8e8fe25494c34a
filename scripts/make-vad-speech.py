#!/usr/bin/env python3
"""Synthesise the speech clip used by examples/explain-vad.ts.

espeak-ng speaks one English sentence (22 050 Hz), which is resampled to 16 kHz mono, scaled to a
peak of 0.5 and framed by 0.8 s of low Gaussian noise before and after (the same noise, about
-50 dBFS, runs under the speech too). Written as 16-bit PCM WAV.

    python3 scripts/make-vad-speech.py [out.wav]

Needs espeak-ng (Debian: apt install espeak-ng), numpy and scipy. The noise is seeded, so the
output depends only on the espeak-ng version (1.51 made the committed file).
"""
import io
import subprocess
import sys
import wave

import numpy as np
from scipy.signal import resample_poly

SENTENCE = "Explainable models show their work."
RATE = 16000
PAD_SECONDS = 0.8
NOISE_RMS = 0.003

out = sys.argv[1] if len(sys.argv) > 1 else "examples/assets/vad/speech.wav"
raw = subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "--stdout", SENTENCE], check=True, capture_output=True).stdout
with wave.open(io.BytesIO(raw)) as w:
    src_rate = w.getframerate()
    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
speech = resample_poly(pcm, RATE, src_rate)
# espeak-ng pads its output with a little silence: trim it so the framing noise sets the boundaries.
loud = np.flatnonzero(np.abs(speech) > 0.01)
speech = speech[loud[0]:loud[-1] + 1]
speech *= 0.5 / np.max(np.abs(speech))
pad = int(PAD_SECONDS * RATE)
signal = np.concatenate([np.zeros(pad), speech, np.zeros(pad)])
signal += np.random.default_rng(7).normal(0.0, NOISE_RMS, signal.shape)
pcm16 = np.clip(np.round(signal * 32767), -32768, 32767).astype("<i2")
with wave.open(out, "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(RATE)
    w.writeframes(pcm16.tobytes())
print(f"{out}: {len(pcm16)} samples ({len(pcm16) / RATE:.2f} s); speech from {pad / RATE:.2f} s to {(pad + len(speech)) / RATE:.2f} s")
