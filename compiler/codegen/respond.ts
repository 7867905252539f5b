import type { FixedResponse } from '../spec/schema.ts';
import { i64, str } from './literals.ts';

/** AS expression (an IIFE-free block) that builds a fixed response into `d`. */
export function fixedResponse(r: FixedResponse, extraHeaders: [string, string][] = []): string {
  const isJson = r.body !== undefined && typeof r.body !== 'string';
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  const contentType = r.headers?.['content-type'] ?? (r.body === undefined ? '' : isJson ? 'application/json' : 'text/plain; charset=utf-8');
  const headers = [...Object.entries(r.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'content-type'), ...extraHeaders];
  const lines = [`const d = respond(${i64(r.status)}, ${str(contentType)}, ${str(body)});`, ...headers.map(([k, v]) => `d.header(${str(k.toLowerCase())}, ${str(v)});`), 'return d;'];
  return `{\n    ${lines.join('\n    ')}\n  }`;
}
