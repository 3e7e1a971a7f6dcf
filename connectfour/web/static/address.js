// The page's address: /?game=ID once this browser holds a seat (a reload
// resumes it), /?watch=KEY for a spectator, / on the landing page.

/** Show `path` in the address bar without loading it. */
export function setAddress(path) {
  const current = window.location.pathname + window.location.search;
  if (current === path) return;
  try {
    window.history.replaceState(window.history.state, "", path);
  } catch {
    // Some embedded browsers refuse; the page works on, only a reload cannot resume.
  }
}
