// How to trust the box's certificate on each kind of device. Served over plain HTTP too,
// because a device that does not trust the box yet cannot open its HTTPS pages without warnings.
import { h } from '../dom.js';
import { heading } from '../shell.js';
import { t } from '../../i18n.js';

const PLATFORMS = ['ipad', 'chromebook', 'windows', 'macos', 'android'];

export async function installView({ main, setTitle }) {
  setTitle(t('install.title'));
  const info = await fetch('/api/tls').then((r) => r.json()).catch(() => ({ local_ca: false }));
  main.append(heading(t('install.title')));
  if (!info.local_ca) {
    main.append(h('p', {}, t('install.not_needed')));
    return;
  }
  main.append(
    h('p', {}, t('install.intro')),
    h('p', {}, h('a', { href: '/ca.crt', class: 'button primary', download: 'tavla-ca.crt' }, t('install.download'))),
    h('p', { class: 'fingerprint' }, t('install.fingerprint'), ' ', h('code', {}, info.fingerprint_sha256)),
    ...PLATFORMS.map((platform) => h('section', { 'aria-labelledby': `install-${platform}` },
      h('h2', { id: `install-${platform}` }, t(`install.${platform}`)),
      h('ol', {}, t(`install.${platform}_steps`).split('|').map((step) => h('li', {}, step))),
      platform === 'ipad' ? h('p', {}, h('a', { href: '/ca.mobileconfig' }, t('install.mobileconfig'))) : null)),
    h('p', {}, t('install.after'), ' ', h('a', { href: `https://${location.hostname}:${info.https_port ?? 8443}/` }, t('install.continue'))),
  );
}
