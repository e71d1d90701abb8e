// Copy-to-clipboard (seed 000). The Clipboard API exists only in secure contexts
// (https or localhost), and a dashboard on a LAN address is often plain http, so there
// is a fallback: a hidden textarea and execCommand('copy'). Resolves to how it went.

/** @returns {Promise<'copied'|'failed'>} */
export async function copyText(text) {
  if (navigator.clipboard?.writeText && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return 'copied';
    } catch {
      // Denied (no permission, page not focused): try the old way below.
    }
  }
  return legacyCopy(text) ? 'copied' : 'failed';
}

function legacyCopy(text) {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  // Off-screen but selectable; fixed so the page does not scroll to it.
  area.style.position = 'fixed';
  area.style.top = '-1000px';
  area.style.opacity = '0';
  const focused = document.activeElement;
  document.body.append(area);
  area.select();
  let ok;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  if (focused instanceof HTMLElement) focused.focus();
  return ok;
}

/**
 * Copies and shows the result on the button for a moment, and tells screen readers.
 * When nothing could copy, the URL is shown selected in a prompt so it can be copied by hand.
 */
export async function copyWithFeedback(button, text, announcer) {
  const result = await copyText(text);
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  button.textContent = result === 'copied' ? 'Copied' : 'Copy failed';
  button.dataset.result = result;
  announcer.textContent = result === 'copied' ? `Copied ${text}` : `Could not copy ${text}`;
  clearTimeout(Number(button.dataset.timer));
  button.dataset.timer = String(
    setTimeout(() => {
      button.textContent = label;
      delete button.dataset.result;
    }, 1500),
  );
  if (result === 'failed') window.prompt('Copy this endpoint:', text);
  return result;
}
