// The hand-picking part of the detail view: "Add to a selection…" puts the image into a
// hand-picked selection (one from the list, or a new one, named and described here); an image
// already in it says so and offers "Remove from it". While the grid shows a hand-picked
// selection, the panel says the image is in it ("In this selection") and offers to take it out.
// A selection's last image cannot be taken out (the API keeps no empty selection): the panel
// says so and offers Delete instead.

import { fill, h, num, plural, toast } from './dom.js';
import { addImage, listed, pickedSelections, pickedShown, placeIn, removeImage } from './picked.js';
import { deleteSelection, onSaved, refreshSaved, savedSelections } from './selections.js';
import { getState } from './state.js';

const MAX_NAME = 200; // as the API (search/selections.py)
const MAX_DESCRIPTION = 2000;
const NEW = ''; // the target menu's value for a new selection
let lastTarget = ''; // the selection last added to: the next image goes there too by default

const panel = () => document.querySelector('#detail .pick-panel');
const part = (selector) => panel()?.querySelector(selector);

/** Where an image is in `selection` (a list entry or the API's answer): "image 2 of 3". */
const placeText = (place, selection) =>
  `image ${num(place)} of ${num(selection.images ?? selection.ids.length)}`;

/** Say `what` in the panel's message line, with `actions` beside it (an alert with `alert`). */
function say(what, actions = [], alert = false) {
  const line = part('.pick-message');
  if (!line) return;
  line.setAttribute('role', alert ? 'alert' : 'status');
  // Nothing to say empties the line (it takes no room then).
  fill(
    line,
    what ? h('span', {}, what) : null,
    actions.length ? h('span', { class: 'row' }, actions) : null,
  );
}

/**
 * Disable the panel's controls while a write is under way; after it, a focus lost with a
 * disabled button goes to the message's first action, else to "Add to a selection…".
 */
function busy(on) {
  for (const control of panel()?.querySelectorAll('button, select') ?? []) control.disabled = on;
  const lost = [null, document.body, document.getElementById('detail')].includes(
    document.activeElement,
  );
  if (!on && lost) (part('.pick-message button') ?? part('.pick-toggle'))?.focus();
}

/** Take image `id` out of selection `name`; the last image is refused, with Delete offered. */
async function takeOut(id, name) {
  busy(true);
  try {
    const result = await removeImage(name, id);
    if (result.empty) {
      say(
        `This is the only image in “${name}”, and the API refuses to save an empty ` +
          'selection. Delete the selection instead?',
        [
          h(
            'button',
            { type: 'button', class: 'danger', onClick: () => deleteSelection(result.selection) },
            `Delete “${name}”…`,
          ),
        ],
        true,
      );
    } else if (!result.removed) {
      say(`This image is not in “${name}” (any more).`);
    } else {
      const held = plural(result.selection.images, 'image');
      toast(`Removed from “${name}” (${held}).`);
      say(`Removed from “${name}”, which now holds ${held}.`, [
        h(
          'button',
          { type: 'button', onClick: () => putIn(id, name, { at: result.place }) },
          'Put it back',
        ),
      ]);
    }
  } catch (err) {
    say(`Could not take it out of “${name}”: ${err.message}`, [], true);
  } finally {
    busy(false);
  }
}

/**
 * Add image `id` to selection `name` (`options` as for `addImage`); an image already in it
 * says so and offers "Remove from it".
 */
async function putIn(id, name, options = {}) {
  busy(true);
  try {
    const { selection, added, place } = await addImage(name, id, options);
    lastTarget = selection.name;
    const where = placeText(place, selection);
    if (added) {
      toast(`Added to “${selection.name}” (${plural(selection.images, 'image')}).`);
      closeForm();
      say(`In “${selection.name}”: ${where}.`);
    } else {
      say(`This image is already in “${selection.name}” (${where}).`, [
        h(
          'button',
          { type: 'button', onClick: () => takeOut(id, selection.name) },
          'Remove from it',
        ),
      ]);
    }
    return true;
  } catch (err) {
    // Another tab may have saved a selection of that name since the list was read.
    if (err.parameter === 'name') refreshSaved();
    say(err.message, [], true);
    return false;
  } finally {
    busy(false);
  }
}

/** "In this selection": where the image is in the hand-picked selection the grid shows. */
async function member(id) {
  const item = pickedShown(getState());
  const el = part('.pick-member');
  if (!el) return;
  if (!item) return fill(el);
  try {
    const place = await placeIn(item, id);
    if (!place || !el.isConnected) return fill(el);
    fill(
      el,
      h('strong', {}, 'In this selection'),
      ` (“${item.name}”, ${placeText(place, item)}) `,
      h(
        'button',
        { type: 'button', class: 'small', onClick: () => takeOut(id, item.name) },
        'Remove from it',
      ),
    );
  } catch (err) {
    fill(el, h('span', { class: 'muted' }, `Whether it is in “${item.name}”: ${err.message}`));
  }
}

/** The selection the menu starts on: the last one added to, the grid's, else the newest. */
function startTarget(picked) {
  const names = picked.map((item) => item.name);
  const grid = pickedShown(getState())?.name;
  return [lastTarget, grid, names[0]].find((name) => name && names.includes(name)) ?? NEW;
}

/** Fill the menu of hand-picked selections, with "A new selection…" last. */
function fillTargets() {
  const picked = pickedSelections();
  const select = part('#pick-target');
  fill(
    select,
    picked.map((item) =>
      h('option', { value: item.name }, `${item.name} (${plural(item.images, 'image')})`),
    ),
    h('option', { value: NEW }, 'A new selection…'),
  );
  select.value = startTarget(picked);
  showNew();
}

/** The name and description fields show for a new selection only. */
function showNew() {
  part('.pick-new').hidden = part('#pick-target').value !== NEW;
}

async function openForm() {
  const form = part('.pick-form');
  form.hidden = false;
  part('.pick-toggle').setAttribute('aria-expanded', 'true');
  say('');
  // The sidebar's list may not be read yet (or failed): read it before offering it.
  if (!savedSelections()) await refreshSaved();
  if (form.isConnected) {
    fillTargets();
    part('#pick-target').focus();
  }
}

function closeForm() {
  const form = part('.pick-form');
  if (!form) return;
  form.hidden = true;
  part('.pick-toggle').setAttribute('aria-expanded', 'false');
  part('.pick-toggle').focus();
}

function submit(id) {
  const target = part('#pick-target').value;
  const name = target === NEW ? part('#pick-name').value.trim() : target;
  if (!name) {
    say('Give the new selection a name.', [], true);
    return part('#pick-name').focus();
  }
  const same = target === NEW ? listed(name) : null;
  if (same && same.source !== 'picked') {
    say(`“${name}” is taken by a selection of another kind: choose another name.`, [], true);
    return part('#pick-name').focus();
  }
  // A new name that is a hand-picked selection's already: the image goes into that one.
  putIn(id, name, { description: part('#pick-description').value.trim() });
}

function form(id) {
  return h(
    'form',
    {
      class: 'pick-form',
      id: 'pick-form',
      hidden: true,
      onSubmit: (e) => {
        e.preventDefault();
        submit(id);
      },
    },
    h('label', { for: 'pick-target' }, 'Add this image to'),
    h('select', { id: 'pick-target', onChange: showNew }),
    h(
      'div',
      { class: 'pick-new' },
      h('label', { for: 'pick-name' }, 'Name of the new selection'),
      h('input', {
        id: 'pick-name',
        type: 'text',
        maxlength: MAX_NAME,
        autocomplete: 'off',
        'aria-describedby': 'pick-name-hint',
      }),
      h(
        'p',
        { class: 'hint', id: 'pick-name-hint' },
        'Shown in the sidebar and in links to it (?selection=NAME).',
      ),
      h('label', { for: 'pick-description' }, 'Description (optional)'),
      h('textarea', { id: 'pick-description', rows: 2, maxlength: MAX_DESCRIPTION }),
    ),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', onClick: closeForm }, 'Cancel'),
      h('button', { type: 'submit', class: 'primary' }, 'Add'),
    ),
  );
}

/** The detail view's hand-picking panel for image `id`. */
export function pickPanel(id) {
  const el = h(
    'section',
    { class: 'pick-panel', 'aria-label': 'Hand-picked selections', dataset: { id } },
    h('p', { class: 'pick-member' }),
    h(
      'button',
      {
        type: 'button',
        class: 'pick-toggle',
        'aria-expanded': 'false',
        'aria-controls': 'pick-form',
        onClick: () => (part('.pick-form').hidden ? openForm() : closeForm()),
      },
      'Add to a selection…',
    ),
    form(id),
    h('div', { class: 'pick-message', role: 'status' }),
  );
  // The panel is in the dialog once the detail has rendered: the membership is read after.
  queueMicrotask(() => member(id));
  return el;
}

/** Keep "In this selection" in step with the list of saved selections (read after each write). */
export function initPickPanel() {
  onSaved(() => {
    const id = panel()?.dataset.id;
    if (id) member(id);
  });
}
