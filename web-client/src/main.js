// Boot and routing. Views are plain functions that draw into <main>; the router gives each the
// caller (from /api/me), the URL's parameters and a way to move on.
import { keepFor } from './editor/local.js';
import { getKept } from './protocol/api.js';
import { t } from './i18n.js';
import { renderShell } from './ui/shell.js';
import { applyProfile, profileOf, profileView, saveProfile } from './ui/profile.js';
import { joinView } from './ui/views/join.js';
import { cardView } from './ui/views/card.js';
import { loginView } from './ui/views/login.js';
import { setupView } from './ui/views/setup.js';
import { dashboardView } from './ui/views/dashboard.js';
import { classView } from './ui/views/class.js';
import { cardsView } from './ui/views/cards.js';
import { lessonView } from './ui/views/lesson.js';
import { projectorView } from './ui/views/projector.js';
import { pupilView } from './ui/views/pupil.js';
import { installView } from './ui/views/install.js';
import { notSetUpView } from './ui/views/not-set-up.js';
import { docView } from './ui/views/doc.js';
import { cameraView } from './ui/views/camera.js';
import { boxesView } from './ui/views/boxes.js';

const teacherOnly = new Set(['/teacher', '/teacher/class', '/teacher/cards', '/teacher/lesson', '/teacher/projector', '/teacher/boxes']);

const routes = {
  '/join': joinView,
  '/card': cardView,
  '/login': loginView,
  '/setup': setupView,
  '/teacher': dashboardView,
  '/teacher/class': classView,
  '/teacher/cards': cardsView,
  '/teacher/lesson': lessonView,
  '/teacher/projector': projectorView,
  '/teacher/boxes': boxesView,
  '/lesson': pupilView,
  '/install': installView,
  '/doc': docView,
  '/camera': cameraView,
  '/profile': profileView,
};

let me = { role: 'nobody' };
let cleanup = null;

async function refreshMe() {
  try {
    me = await getKept('/me');
  } catch {
    me = { role: 'nobody' };
  }
  await keepFor(me);
  applyProfile(profileOf(me));
  return me;
}

/** Where someone lands on `/`, or when a page is not for them. */
function homeFor(who) {
  if (who.role === 'teacher') return '/teacher';
  if (who.role === 'pupil' || who.role === 'remote_pupil') return '/lesson';
  if (who.role === 'camera') return '/camera';
  return '/join';
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  return render();
}

async function render() {
  cleanup?.();
  cleanup = null;
  let path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') {
    if (location.protocol === 'http:') return navigate('/install', { replace: true });
    await refreshMe();
    if (me.role === 'nobody' && me.needs_setup) return show(notSetUpView, path);
    return navigate(homeFor(me), { replace: true });
  }
  if (location.protocol === 'http:' && path !== '/install') {
    // Plain HTTP only serves the certificate page; the server redirects the rest.
    path = '/install';
  }
  if (path !== '/install') await refreshMe();
  if (teacherOnly.has(path) && me.role !== 'teacher') {
    return navigate(me.role === 'nobody' ? '/login' : homeFor(me), { replace: true });
  }
  if (path === '/lesson' && me.role !== 'pupil' && me.role !== 'remote_pupil') {
    return navigate(homeFor(me), { replace: true });
  }
  if (path === '/profile' && !['pupil', 'remote_pupil', 'teacher'].includes(me.role)) {
    return navigate(homeFor(me), { replace: true });
  }
  if (path === '/doc' && me.role === 'nobody') return navigate('/join', { replace: true });
  // A pupil's document opens inside their lesson page, beside the hand and the messages.
  if (path === '/doc' && (me.role === 'pupil' || me.role === 'remote_pupil')) return show(pupilView, path);
  const view = routes[path];
  if (!view) return show(notFoundView, path);
  return show(view, path);
}

async function show(view, path) {
  const main = renderShell({ me, navigate, onLanguageChange });
  const params = new URLSearchParams(location.search);
  const context = { main, me, params, path, navigate, refreshMe, setTitle };
  cleanup = (await view(context)) ?? null;
  // Move focus to the new page's heading so screen readers announce the page change.
  main.querySelector('h1')?.focus({ preventScroll: true });
}

/** The header's language menu: a pupil's choice goes into their profile, so it stays. */
async function onLanguageChange(code) {
  if (me.role === 'pupil' || me.role === 'remote_pupil') await saveProfile(me, { lang: code }).catch(() => {});
  return render();
}

function setTitle(text) {
  document.title = `${text} – ${t('app.name')}`;
}

function notFoundView({ main, setTitle: title }) {
  title(t('notfound.title'));
  main.append(Object.assign(document.createElement('h1'), { textContent: t('notfound.title'), tabIndex: -1 }));
}

document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[data-link]');
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
});
window.addEventListener('popstate', render);
render();
// The app itself is kept in the browser, so it opens again while the box is away.
navigator.serviceWorker?.register('/sw.js').catch(() => {});
