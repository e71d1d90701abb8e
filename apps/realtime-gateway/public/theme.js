// Light or dark: the system's setting unless the reader chose one (remembered in
// localStorage). A classic script loaded in <head>, so the choice applies before the
// first paint; the dashboard and the status page share it. A toggle button is any
// element with id="theme-toggle".
(function () {
  var KEY = 'beacon-theme';
  var root = document.documentElement;
  var system = window.matchMedia('(prefers-color-scheme: dark)');
  /** The choice when storage refuses it: kept for this page's life. */
  var memory = '';

  function stored() {
    try {
      var value = localStorage.getItem(KEY);
      return value === 'dark' || value === 'light' ? value : '';
    } catch {
      return memory; // Storage refused (private mode, policy).
    }
  }

  function effective() {
    return stored() || (system.matches ? 'dark' : 'light');
  }

  function apply() {
    var chosen = stored();
    if (chosen) root.dataset.theme = chosen;
    else delete root.dataset.theme;
    var button = document.getElementById('theme-toggle');
    if (!button) return;
    var dark = effective() === 'dark';
    button.setAttribute('aria-pressed', String(dark));
    button.textContent = dark ? 'Light theme' : 'Dark theme';
    button.title = chosen
      ? 'Your choice, remembered; the system setting is ' + (system.matches ? 'dark' : 'light')
      : 'Following the system setting';
  }

  function toggle() {
    var next = effective() === 'dark' ? 'light' : 'dark';
    try {
      // Choosing what the system shows anyway means "follow the system" again.
      if (next === (system.matches ? 'dark' : 'light')) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, next);
    } catch {
      memory = next;
    }
    apply();
  }

  apply();
  system.addEventListener('change', apply);
  document.addEventListener('DOMContentLoaded', function () {
    apply();
    var button = document.getElementById('theme-toggle');
    if (button) button.addEventListener('click', toggle);
  });
})();
