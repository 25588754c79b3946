// A polite live region for changes that happen without the user acting (someone joined).
let region;

export function mountAnnouncer(parent) {
  region = document.createElement('div');
  region.className = 'visually-hidden';
  region.setAttribute('aria-live', 'polite');
  region.setAttribute('role', 'status');
  parent.append(region);
}

export function announce(text) {
  if (!region) return;
  region.textContent = '';
  // A fresh text node after clearing makes screen readers read repeated messages too.
  setTimeout(() => { region.textContent = text; }, 50);
}
