// The API key: asked for once (when the server first refuses a request), kept in local storage,
// sent as a bearer token with every request.

const STORAGE_KEY = 'picsift.apiKey';

/** The saved key, or null. */
export function getKey() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled (private mode): behave as if no key was saved
  }
}

/** Forget the saved key (it was refused). */
export function forgetKey() {
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing saved */
  }
}

let pending = null;

/**
 * Ask the user for the key in a dialog. Resolves to the key, or null when cancelled. Concurrent
 * callers share one dialog.
 */
export function askKey(reason) {
  if (pending) return pending;
  const dialog = document.getElementById('key-dialog');
  const input = document.getElementById('key-input');
  document.getElementById('key-reason').textContent = reason;
  input.value = '';
  pending = new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        pending = null;
        const key = dialog.returnValue === 'ok' ? input.value.trim() : '';
        if (!key) return resolve(null);
        try {
          localStorage.setItem(STORAGE_KEY, key);
        } catch {
          /* kept for this page only */
        }
        resolve(key);
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
  return pending;
}
