import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

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
  },
})
