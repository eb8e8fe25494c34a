/**
 * The options form on the page: one labelled control per field of a method's form schema, the
 * read-back of what the user typed, and the error messages next to their fields.
 */
import type { FormErrors, FormField, RawForm } from './formSchema.js'

export interface LayerChoice {
  readonly name: string
  readonly opType: string
}

const control = (f: FormField, layers: readonly LayerChoice[]): HTMLInputElement | HTMLSelectElement => {
  const choices = f.kind === 'select' || f.kind === 'boolean' ? f.choices.map(String) : f.kind === 'layer' ? layers.map((l) => l.name) : undefined
  if (choices !== undefined) {
    const sel = document.createElement('select')
    const none = document.createElement('option')
    none.value = ''
    none.textContent = f.required ? (f.kind === 'layer' ? 'choose a layer…' : 'choose…') : '(default)'
    sel.append(none)
    for (const c of choices) {
      const o = document.createElement('option')
      o.value = c
      const layer = f.kind === 'layer' ? layers.find((l) => l.name === c) : undefined
      o.textContent = layer !== undefined ? `${c} (${layer.opType})` : c
      sel.append(o)
    }
    return sel
  }
  const input = document.createElement('input')
  input.type = f.kind === 'integer' || f.kind === 'number' ? 'number' : 'text'
  if (f.kind === 'integer') input.step = '1'
  if (f.kind === 'number') input.step = 'any'
  input.placeholder = f.required ? (f.kind === 'json' ? 'JSON, required' : 'required') : f.kind === 'json' ? 'JSON (default if empty)' : 'default'
  if (f.kind === 'json') input.className = 'json'
  return input
}

/** Renders the fields into `form` (replacing what was there), with `values` filled in. */
export const renderForm = (form: HTMLElement, fields: readonly FormField[], layers: readonly LayerChoice[], values: RawForm = {}): void => {
  form.replaceChildren()
  if (fields.length === 0) {
    const p = document.createElement('p')
    p.className = 'hint'
    p.textContent = 'This method has no options.'
    form.append(p)
  }
  for (const f of fields) {
    const row = document.createElement('div')
    row.className = 'field'
    const label = document.createElement('label')
    label.textContent = f.name
    label.title = `${f.typeName}${f.required ? ' (required)' : ''}`
    const c = control(f, layers)
    c.name = f.name
    c.dataset['field'] = f.name
    // A value the control cannot show (e.g. a layer this model lacks) is added as a choice, so a loaded spec is never silently changed.
    const v = values[f.name] ?? ''
    if (c instanceof HTMLSelectElement && v !== '' && ![...c.options].some((o) => o.value === v)) {
      const o = document.createElement('option')
      o.value = v
      o.textContent = v
      c.append(o)
    }
    c.value = v
    label.htmlFor = c.id = `opt-${f.name}`
    const type = document.createElement('span')
    type.className = 'type'
    type.textContent = f.kind === 'json' ? 'JSON' : f.kind
    type.title = f.typeName
    const err = document.createElement('span')
    err.className = 'error'
    err.dataset['errorFor'] = f.name
    row.append(label, c, type, err)
    form.append(row)
  }
}

/** What the user typed, by field name. */
export const readRaw = (form: HTMLElement): RawForm => {
  const raw: Record<string, string> = {}
  for (const c of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-field]')) raw[c.dataset['field'] ?? ''] = c.value
  return raw
}

/** Shows each field's error next to it (and clears the others); form-level messages go to `formError`. */
export const showErrors = (form: HTMLElement, formError: HTMLElement, errors: FormErrors | undefined): void => {
  for (const span of form.querySelectorAll<HTMLElement>('[data-error-for]')) {
    const msg = errors?.fields[span.dataset['errorFor'] ?? ''] ?? ''
    span.textContent = msg
    span.closest('.field')?.classList.toggle('invalid', msg !== '')
  }
  formError.textContent = errors?.form.join('; ') ?? ''
}
