// Stands in for a file the user picked (<input type="file">) or dropped on a page: the penguin
// classifier of examples/assets (9 standardised measurements → 3 species logits).
import { readFileSync } from 'node:fs'

export const picked = new File([readFileSync('examples/assets/penguins/penguins.onnx')], 'penguins.onnx')
