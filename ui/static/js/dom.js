// Tiny DOM helpers shared by every view: element creation, formatting, messages.

/**
 * Create an element. `attrs` keys: `class`, `text`, `html` is not supported on purpose (no
 * injection), `on<Event>` handlers, `dataset`, `style` (object), booleans as properties, the rest
 * as attributes. Children may be strings, nodes, arrays or null.
 */
export function h(tag, attrs = {}, ...children) {
  const el =
    tag === 'svg' || attrs.svg
      ? document.createElementNS('http://www.w3.org/2000/svg', tag)
      : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false || key === 'svg') continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style')
      for (const [k, v] of Object.entries(value)) el.style.setProperty(k, v);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

/** Create an SVG element (see `h`). */
export function s(tag, attrs = {}, ...children) {
  return h(tag, { ...attrs, svg: true }, ...children);
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace all children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** `<code>` inline, for commands in messages. */
export const code = (text) => h('code', {}, text);

/**
 * A message block for empty, loading and error states: a title, what to do, optional actions.
 * `kind` is one of `empty`, `loading`, `error`.
 */
export function notice(kind, title, body = [], actions = []) {
  return h(
    'div',
    {
      class: `notice notice-${kind}`,
      role: kind === 'error' ? 'alert' : 'status',
      'aria-busy': kind === 'loading' ? 'true' : null,
    },
    kind === 'loading' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    h('p', { class: 'notice-title' }, title),
    body.length ? h('p', {}, body) : null,
    actions.length ? h('div', { class: 'row' }, actions) : null,
  );
}

/** A short local date (and time) for an ISO timestamp; the raw text when it does not parse. */
export function formatDate(iso, withTime = true) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const opts = { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' };
  if (withTime) Object.assign(opts, { hour: '2-digit', minute: '2-digit' });
  return date.toLocaleString(undefined, opts) + (withTime ? ' UTC' : '');
}

/**
 * A link target from scraped data, only when it is a web address: a post's `url` field could
 * hold `javascript:` or anything else a scrape picked up.
 */
export function safeUrl(url) {
  return typeof url === 'string' && /^https?:\/\//i.test(url.trim()) ? url.trim() : null;
}

/** 1234 -> "1,234". */
export const num = (n) => (typeof n === 'number' ? n.toLocaleString() : String(n ?? '?'));

/** "1 image" / "2 images". */
export const plural = (n, word) => `${num(n)} ${word}${n === 1 ? '' : 's'}`;

/** A cosine score as tiles show it: three decimals. */
export const scoreText = (score) => score.toFixed(3);

/** A score cut as counts show it: 0.3 -> "0.30", 0.275 as typed, an edge 0.274312 -> "0.274". */
export function cutText(score) {
  const text = String(Number(Number(score).toFixed(3)));
  const decimals = text.split('.')[1]?.length ?? 0;
  return decimals < 2 ? Number(score).toFixed(2) : text;
}

/**
 * Show a short message at the bottom of the screen for a few seconds; with `action`
 * (`{label, run}`), a button beside it, and longer, so there is time to press it.
 */
export function toast(message, action = null) {
  const el = document.getElementById('toast');
  const done = () => el.classList.remove('show', 'with-action');
  fill(
    el,
    message,
    action
      ? h(
          'button',
          {
            class: 'small',
            onClick: () => {
              done();
              action.run();
            },
          },
          action.label,
        )
      : null,
  );
  el.classList.add('show');
  el.classList.toggle('with-action', Boolean(action));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(done, action ? 10_000 : 4000);
}
