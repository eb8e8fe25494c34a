/**
 * Writes demos/cnn-input.png, the cnn demo's 32×32 picture: a warm disc and a green bar on a cool
 * diagonal gradient (synthetic, so it carries no licence). Run: `npx tsx examples/explorer/demos/make-cnn-input.ts`.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { PNG } from 'pngjs'

const SIZE = 32
const png = new PNG({ width: SIZE, height: SIZE })
for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    const disc = (x - 20) ** 2 + (y - 12) ** 2 < 49
    const bar = x >= 4 && x < 9 && y >= 16 && y < 30
    const rgb = disc ? [235, 170, 40] : bar ? [40, 160, 70] : [30 + 3 * x, 60 + 2 * y, 170 - 2 * x]
    png.data.set([...rgb, 255], (y * SIZE + x) * 4)
  }
}
writeFileSync(fileURLToPath(new URL('./cnn-input.png', import.meta.url)), PNG.sync.write(png))
