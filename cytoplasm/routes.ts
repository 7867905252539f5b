/**
 * Spin's HTTP route matching: exact paths, `:name` segments, and a trailing `/...` wildcard.
 * The most specific route wins: exact before parameterised before wildcard, longer before shorter.
 */
export interface RouteEntry<T> {
  route: string;
  target: T;
}

interface Compiled<T> {
  route: string;
  segments: string[];
  wildcard: boolean;
  target: T;
  score: number;
}

function compile<T>(entry: RouteEntry<T>): Compiled<T> {
  const wildcard = entry.route === '/...' || entry.route.endsWith('/...');
  const base = wildcard ? entry.route.slice(0, -4) : entry.route;
  const segments = base.split('/').filter(Boolean);
  const params = segments.filter((s) => s.startsWith(':')).length;
  const score = (wildcard ? 0 : 1_000_000) + segments.length * 1000 - params;
  return { route: entry.route, segments, wildcard, target: entry.target, score };
}

export class RouteTable<T> {
  private readonly routes: Compiled<T>[];

  constructor(entries: RouteEntry<T>[]) {
    this.routes = entries.map(compile).sort((a, b) => b.score - a.score);
  }

  match(path: string): { route: string; target: T } | null {
    const parts = path.split('/').filter(Boolean);
    for (const r of this.routes) {
      if (r.wildcard ? parts.length < r.segments.length : parts.length !== r.segments.length) continue;
      let ok = true;
      for (let i = 0; i < r.segments.length; i++) {
        const s = r.segments[i];
        if (!s.startsWith(':') && s !== parts[i]) {
          ok = false;
          break;
        }
      }
      if (ok) return { route: r.route, target: r.target };
    }
    return null;
  }
}
