// The dialog that saves a selection: what it will hold, a name and a description; a name
// already taken offers to replace that selection. After saving, a toast offers to open it.

import { api } from './api.js';
import { fill, formatDate, h, plural, toast } from './dom.js';
import { openPatch, refreshSaved, savedSelections } from './selections.js';
import { update } from './state.js';

const MAX_NAME = 200; // as the API (search/selections.py)
const MAX_DESCRIPTION = 2000;
let dialog = null;
let asked = null; // what the open dialog saves (see `saveDialog`)

const part = (selector) => dialog.querySelector(selector);
const taken = (name) => savedSelections()?.find((s) => s.name === name.trim());

function build() {
  dialog = h(
    'dialog',
    { id: 'save-dialog', 'aria-labelledby': 'save-title' },
    h(
      'form',
      {
        class: 'save-form',
        onSubmit: (e) => {
          e.preventDefault();
          submit(false);
        },
      },
      h('h2', { id: 'save-title' }, 'Save a selection'),
      h('p', { class: 'save-what', id: 'save-what' }),
      h('label', { for: 'save-name' }, 'Name'),
      h('input', {
        id: 'save-name',
        type: 'text',
        required: true,
        maxlength: MAX_NAME,
        autocomplete: 'off',
        'aria-describedby': 'save-name-hint',
        onInput: nameHint,
      }),
      h('p', { class: 'hint', id: 'save-name-hint' }),
      h('label', { for: 'save-description' }, 'Description (optional)'),
      h('textarea', { id: 'save-description', rows: 3, maxlength: MAX_DESCRIPTION }),
      h('div', { class: 'save-problem', role: 'alert' }),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', onClick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary save-submit' }, 'Save'),
      ),
    ),
  );
  document.body.append(dialog);
}

function nameHint() {
  const existing = taken(part('#save-name').value);
  fill(
    part('#save-name-hint'),
    existing
      ? `A selection of this name exists (${plural(existing.images, 'image')}); ` +
          'saving offers to replace it.'
      : 'Shown in the sidebar and in links to it (?selection=NAME).',
  );
}

/** Say that the name is taken, and offer to replace the selection of that name. */
function offerReplace(name) {
  const existing = taken(name);
  const held = existing
    ? ` (${plural(existing.images, 'image')}, saved ${formatDate(existing.created_at)})`
    : '';
  fill(
    part('.save-problem'),
    h('p', {}, `A selection “${name}” already exists${held}.`),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', class: 'danger', onClick: () => submit(true) }, 'Replace it'),
      h('span', { class: 'hint' }, 'or choose another name.'),
    ),
  );
}

function busy(on) {
  for (const button of dialog.querySelectorAll('button')) button.disabled = on;
  part('.save-submit').textContent = on ? 'Saving…' : 'Save';
}

async function submit(replace) {
  const name = part('#save-name').value.trim();
  const description = part('#save-description').value.trim();
  if (!name || asked.refused) return;
  fill(part('.save-problem'));
  if (!replace && taken(name)) return offerReplace(name);
  busy(true);
  try {
    const { params, source, ...body } = await asked.request();
    const made = await api('selections', {
      method: 'POST',
      params,
      json: { name, source, description, replace, ...body },
    });
    dialog.close();
    toast(`Saved “${made.name}”: ${plural(made.images, 'image')}.`, {
      label: 'Open it',
      run: () => update(openPatch(made.name)),
    });
    refreshSaved();
  } catch (err) {
    // Another tab may have taken the name since the list was read.
    if (err.parameter === 'name' && /exists/.test(err.message)) offerReplace(name);
    else fill(part('.save-problem'), h('p', { class: 'error-text' }, err.message));
  } finally {
    busy(false);
    if (asked.refused) part('.save-submit').disabled = true;
  }
}

/**
 * Ask for a name and a description, then save a selection. `what`: `images`, a phrase of
 * what it will hold; `refused`, why it cannot be saved (said instead, Save disabled);
 * `name`, a name to suggest; `request()`, resolving to the API's `{source, params}` (a
 * search view, its query string) or `{source, ids, view}`, asked for when Save is pressed
 * (a list of similar images is read page by page then).
 */
export function saveDialog(what) {
  if (!dialog) build();
  asked = what;
  fill(
    part('.save-what'),
    what.refused
      ? h('span', { class: 'error-text' }, what.refused)
      : ['It will hold ', what.images, ', as they are now.'],
  );
  part('#save-name').value = what.name ?? '';
  part('#save-description').value = '';
  fill(part('.save-problem'));
  busy(false);
  part('.save-submit').disabled = Boolean(what.refused);
  nameHint();
  dialog.showModal();
  part('#save-name').select();
}
