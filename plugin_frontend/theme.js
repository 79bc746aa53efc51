// TensorBoard's light or dark theme in the tab: TensorBoard puts class "dark-mode" on the parent
// page's <body> (the tab is a same-origin iframe); outside TensorBoard, the system's preference.

const SYSTEM_DARK = "(prefers-color-scheme: dark)";

/** The parent page's <body>, or null when the tab is not embedded (or the parent is not readable). */
function parentBody() {
  try {
    return window.parent !== window ? window.parent.document.body : null;
  } catch (error) {
    return null; // Another origin.
  }
}

export function isDark() {
  const body = parentBody();
  return body ? body.classList.contains("dark-mode") : window.matchMedia(SYSTEM_DARK).matches;
}

/** Puts class "dark" on this page's <html> while the theme is dark; calls `onChange(dark)` on a change. */
export function followTheme(onChange) {
  let dark = null;
  const apply = () => {
    if (isDark() === dark) return;
    dark = isDark();
    document.documentElement.classList.toggle("dark", dark);
    onChange(dark);
  };
  const body = parentBody();
  if (body) new MutationObserver(apply).observe(body, { attributes: true, attributeFilter: ["class"] });
  window.matchMedia(SYSTEM_DARK).addEventListener("change", apply);
  apply();
}
