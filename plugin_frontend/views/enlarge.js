// One scatter plot shown large over the tab, following its source plot (new frames, redraws,
// the selection); the close button, Esc or a click beside it closes it.

import { element } from "../dom.js";

/** Opens a large copy of `source` (a ScatterView); returns it. */
export function openEnlarged(source) {
  const backdrop = document.body.appendChild(element("div", "enlarge-backdrop"));
  const card = backdrop.appendChild(element("div", "enlarge-card"));
  const close = card.appendChild(element("button", "link-button enlarge-close", "close ✕"));
  close.title = "Close (Esc)";
  const view = new source.constructor(card, source.display, "enlarged");
  view.setZoom(source.zoom);
  source.enlarged = view;
  const onKey = (event) => {
    if (event.key === "Escape") shut();
  };
  const shut = () => {
    source.enlarged = null;
    backdrop.remove();
    document.removeEventListener("keydown", onKey);
  };
  close.addEventListener("click", shut);
  backdrop.addEventListener("click", (event) => {
    if (event.target === backdrop) shut();
  });
  document.addEventListener("keydown", onKey);
  if (source.frame) view.show(source.sequence, source.frame);
  return view;
}
