// DOM helper: data reaches the page only as text.

/** Creates an element with a class and optional text (always as text, never HTML). */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
