/** The dashboard shell: hash routing between the five pages, the navigation bar, what is served. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson, type Info } from './api.js';
import { messageOf } from './components.js';
import { DataPage } from './pages/data.js';
import { ItemsPage } from './pages/items.js';
import { ModelsPage } from './pages/models.js';
import { ServicePage } from './pages/service.js';
import { UsersPage } from './pages/users.js';
import './style.css';

const PAGES = [
  { id: 'data', label: 'Data' },
  { id: 'models', label: 'Models' },
  { id: 'users', label: 'User explorer' },
  { id: 'items', label: 'Item explorer' },
  { id: 'service', label: 'Service' },
] as const;

type PageId = (typeof PAGES)[number]['id'];

/** The page named by the location hash (`#/users?user=u3`), and its parameters. */
function route(): { page: PageId; params: URLSearchParams } {
  const [path, q] = location.hash.replace(/^#\/?/, '').split('?');
  const page = PAGES.find((p) => p.id === path)?.id;
  return { page: page ?? 'data', params: new URLSearchParams(q ?? '') };
}

function App() {
  const [r, setR] = useState(route);
  const [info, setInfo] = useState<Info | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const on = (): void => setR(route());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    getJson<Info>('/api/info').then(setInfo, (e: unknown) => setError(messageOf(e)));
  }, []);
  useEffect(() => {
    const label = PAGES.find((p) => p.id === r.page)?.label ?? '';
    document.title = `${label} · recsys dashboard`;
  }, [r.page]);
  const hasModel = info?.mode === 'service';
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <h1>recsys</h1>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={`#/${p.id}`} aria-current={p.id === r.page ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="served" aria-live="polite">
          {info?.model ? (
            <>
              model <strong>{info.model.version}</strong> · {info.model.users.toLocaleString('en-US')} users · {info.model.items.toLocaleString('en-US')} items
            </>
          ) : info ? (
            <>results of {info.resultsDir}</>
          ) : null}
        </p>
      </header>
      <main id="main" tabIndex={-1}>
        {error && <p class="error" role="alert">Cannot reach the service: {error}</p>}
        {info && r.page === 'data' && <DataPage info={info} />}
        {info && r.page === 'models' && <ModelsPage />}
        {info && r.page === 'users' && <UsersPage hasModel={hasModel} initialUser={r.params.get('user') ?? ''} />}
        {info && r.page === 'items' && <ItemsPage info={info} initialItem={r.params.get('item') ?? ''} />}
        {info && r.page === 'service' && <ServicePage hasModel={hasModel} />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
