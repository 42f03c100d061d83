// The top bar's coder sign-in: "Code…" opens a dialog that trades a coder's key (from
// `picsift coders add`) for the server's coding cookie; signed in, the bar says "Coding as
// NAME" with Sign out. The key is sent once and forgotten: the cookie does the rest.

import { coderName, onCoding, signIn, signOut } from './coder.js';
import { code, fill, h, toast } from './dom.js';

let dialog = null;

const part = (selector) => dialog.querySelector(selector);

function build() {
  dialog = h(
    'dialog',
    { id: 'coder-dialog', 'aria-labelledby': 'coder-title' },
    h(
      'form',
      {
        class: 'coder-form',
        onSubmit: (e) => {
          e.preventDefault();
          submit();
        },
      },
      h('h2', { id: 'coder-title' }, 'Sign in to code images'),
      h(
        'p',
        { class: 'hint' },
        'Your coder key was shown once when you were added (',
        code('picsift coders add NAME'),
        '). It is sent once: this browser then holds a cookie that allows coding only.',
      ),
      h('label', { for: 'coder-key' }, 'Coder key'),
      h('input', { id: 'coder-key', type: 'password', autocomplete: 'off', required: true }),
      h('div', { class: 'coder-problem error-text', role: 'alert' }),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', onClick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary coder-submit' }, 'Sign in'),
      ),
    ),
  );
  document.body.append(dialog);
}

async function submit() {
  const input = part('#coder-key');
  if (!input.value.trim()) return;
  const button = part('.coder-submit');
  button.disabled = true;
  fill(part('.coder-problem'));
  try {
    const name = await signIn(input.value);
    input.value = '';
    dialog.close();
    toast(`Coding as ${name}. Number keys apply codes; N and P move on.`);
  } catch (err) {
    fill(
      part('.coder-problem'),
      err.status === 401
        ? 'This key is no coder’s. Check it, or ask for a new one (a new key ends the old).'
        : err.message,
    );
  } finally {
    button.disabled = false;
  }
}

/** Open the sign-in dialog. */
export function askCoderKey() {
  if (!dialog) build();
  part('#coder-key').value = '';
  fill(part('.coder-problem'));
  dialog.showModal();
  part('#coder-key').focus();
}

async function leaveCoding() {
  try {
    await signOut();
    toast('Signed out: no longer coding.');
  } catch (err) {
    toast(`Sign out failed: ${err.message}`);
  }
}

function render(el) {
  const name = coderName();
  if (!name) {
    return fill(
      el,
      h(
        'button',
        {
          type: 'button',
          class: 'coder-sign-in',
          title: 'Sign in as a coder to code images',
          onClick: askCoderKey,
        },
        'Code…',
      ),
    );
  }
  fill(
    el,
    h('span', { class: 'coder-name' }, 'Coding as ', h('strong', {}, h('bdi', {}, name))),
    h('button', { type: 'button', class: 'link coder-sign-out', onClick: leaveCoding }, 'Sign out'),
  );
}

/** Keep the top bar's coder part in step with who is signed in. */
export function initSignIn() {
  const el = document.getElementById('coder');
  onCoding((what) => what === 'coder' && render(el));
  render(el);
}
