// On the grid of a hand-picked selection, each tile has a small "remove from this selection"
// button: beside the tile's link (a button inside a link is no button to a screen reader), so
// Tab reaches it, and always shown (phones have no hover). The last image cannot be removed
// (the API keeps no empty selection): the toast offers Delete instead; a removal can be undone.

import { h, plural, toast } from './dom.js';
import { addImage, pickedShown, removeImage } from './picked.js';
import { deleteSelection, onSaved } from './selections.js';
import { getState } from './state.js';

/** Take image `id` out of selection `name` (the grid drops its tile: see picked.js `onPicked`). */
async function remove(id, name, button) {
  // Not `disabled`: a disabled button loses the focus, which should go on to the next tile.
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  try {
    const result = await removeImage(name, id);
    if (result.empty) {
      toast(`This is the only image in “${name}”: the API refuses to save an empty selection.`, {
        label: 'Delete the selection…',
        run: () => deleteSelection(result.selection),
      });
    } else if (!result.removed) {
      toast(`This image is not in “${name}” any more.`);
    } else {
      const held = plural(result.selection.images, 'image');
      toast(`Removed from “${name}” (${held}).`, {
        label: 'Undo',
        run: () => addImage(name, id, { at: result.place }).catch((err) => toast(err.message)),
      });
    }
  } catch (err) {
    toast(`Could not remove it from “${name}”: ${err.message}`);
  }
  button.removeAttribute('aria-disabled');
}

/**
 * The remove button of image `id` (`label`: what the image is, for the button's name) where
 * `state`'s grid shows a hand-picked selection, else null.
 */
export function tileRemover(id, label, state) {
  const item = pickedShown(state);
  if (!item) return null;
  const button = h(
    'button',
    {
      type: 'button',
      class: 'tile-remove',
      dataset: { id },
      'aria-label': `Remove ${label} from this selection`,
      title: `Remove from “${item.name}”`,
      onClick: () => remove(id, item.name, button),
    },
    h('span', { 'aria-hidden': 'true' }, '×'),
  );
  return button;
}

/** Give the tiles their remove buttons once the list says the selection shown is hand-picked. */
function sync() {
  const state = getState();
  const picked = Boolean(pickedShown(state));
  for (const tile of document.querySelectorAll('#grid .tile')) {
    const had = tile.querySelector('.tile-remove');
    if (had && !picked) had.remove();
    const link = tile.querySelector('.tile-link');
    if (!had && picked && link) {
      const label = link.querySelector('img')?.alt ?? 'this image';
      tile.append(tileRemover(link.dataset.id, label, state));
    }
  }
}

/** Keep the tiles' remove buttons in step with the list of saved selections. */
export function initPickedTiles() {
  onSaved(sync);
}
