/** The results area: one panel per finished run, all drawn on the shared colour scale (or each on its own). */
import { METHODS } from 'clarus'
import { describeOptions, el } from './page.js'
import { className, exposed, state, ui } from './pageState.js'
import { drawLegend, drawView, sharedScale } from './render.js'

export const clearPanels = (): void => {
  state.panels = []
  exposed.results = []
  drawPanels()
}

export const drawPanels = (): void => {
  const shared = sharedScale(state.panels.map((p) => p.view))
  const perPanel = ui.perPanel.checked
  drawLegend(ui.legend, shared)
  ui.legend.hidden = perPanel
  ui.scaleLabel.textContent = perPanel ? 'each panel on its own scale (its range is in its caption)' : state.panels.length > 0 ? `−${shared.max.toPrecision(3)} … 0 … +${shared.max.toPrecision(3)} (one scale for every panel)` : ''
  ui.results.replaceChildren(...state.panels.map((p, i) => {
    const r = p.result
    const panel = el('div', '')
    panel.className = 'panel'
    const title = el('h3', `${METHODS[r.method]?.captumName ?? r.method}`)
    const close = el('button', '×')
    close.type = 'button'
    close.title = 'remove this panel'
    close.addEventListener('click', () => {
      state.panels.splice(i, 1)
      exposed.results.splice(i, 1)
      drawPanels()
    })
    title.append(close)
    const meta = el('div', `target ${className(r.target)} · ${r.ms.toFixed(0)} ms${r.delta !== undefined ? ` · convergence delta ${r.delta.map((d) => d.toExponential(2)).join(', ')}` : ''}`)
    meta.className = 'meta'
    const opts = el('div', describeOptions(r.options))
    opts.className = 'meta'
    const scale = perPanel ? sharedScale([p.view]) : shared
    if (perPanel) meta.textContent += ` · scale ±${scale.max.toPrecision(3)}`
    const body = el('div', '')
    drawView(body, p.view, scale)
    panel.append(title, meta, opts, body)
    return panel
  }))
}
