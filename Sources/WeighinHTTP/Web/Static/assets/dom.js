// Small DOM helpers. Text always goes in as text nodes (never parsed as HTML), and the page's Content-Security-Policy
// (Trusted Types with no policy) makes any assignment to innerHTML throw, so user text cannot become markup.

/** An element `tag` with attributes (`class`, `text` for its text, `on…` for listeners, others as attributes). */
export function el(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** An SVG element, as `el`. */
export function svg(tag, attributes = {}, ...children) {
  return build(document.createElementNS('http://www.w3.org/2000/svg', tag), attributes, children);
}

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.setAttribute('class', value);
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

/** The element with this id. */
export const byId = (id) => document.getElementById(id);

/** Text with `code` spans where it has backticks (the API's descriptions), as nodes. */
export function withCode(text) {
  return String(text).split('`').map((part, index) => (index % 2 === 1 ? el('code', { text: part }) : part));
}
