import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Software Vulkan (Mesa lavapipe, set up by scripts/setup-lavapipe.sh) for the WebGPU tests: the
// test processes get its ICD and libraries when the caller has not chosen a Vulkan driver itself.
// The loader reads these when a process starts, so they go into the forked workers' environment.
const lavapipeDir = process.env['CLARUS_LAVAPIPE_DIR'] ?? path.join(homedir(), '.cache', 'clarus-lavapipe')
const lavapipe: Record<string, string> = process.env['VK_ICD_FILENAMES'] === undefined && existsSync(path.join(lavapipeDir, 'lvp_icd.json'))
  ? {
    VK_ICD_FILENAMES: path.join(lavapipeDir, 'lvp_icd.json'),
    LD_LIBRARY_PATH: [path.join(lavapipeDir, 'root/usr/lib/x86_64-linux-gnu'), process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':'),
  }
  : {}

// The examples (and so the README's snippets) import the package by its name, as a user does;
// inside the repository those names resolve to the sources.
const src = (p: string): string => fileURLToPath(new URL(`./src/${p}`, import.meta.url))
const ENTRY_POINTS: Record<string, string> = {
  clarus: 'index.ts',
  'clarus/onnx': 'backends/onnx/index.ts',
  'clarus/tfjs': 'backends/tfjs/index.ts',
  'clarus/host': 'backends/host/index.ts',
  'clarus/viz': 'viz/index.ts',
  'clarus/conformance': 'conformance/index.ts',
  'clarus/scale': 'scale/index.ts',
  'clarus/scale/bullmq': 'scale/bullmq.ts',
  'clarus/serve': 'serve/index.ts',
}

export default defineConfig({
  resolve: {
    alias: Object.entries(ENTRY_POINTS).map(([name, file]) => ({ find: new RegExp(`^${name}$`), replacement: src(file) })),
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: lavapipe,
  },
})
