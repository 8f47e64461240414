// The page's files, read once at start-up (the container's root filesystem is read-only and they
// never change while it runs) and served from memory with an ETag. The only value put into the HTML
// is the app version, which config.ts restricts to label characters and which is escaped anyway.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface PageAsset {
  body: string;
  contentType: string;
  etag: string;
}

const PUBLIC_DIR = path.join(import.meta.dirname, 'public');

const FILES = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', contentType: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', contentType: 'image/svg+xml' },
} as const;

export type AssetPath = keyof typeof FILES;
export const ASSET_PATHS = Object.keys(FILES) as AssetPath[];

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

export function loadPageAssets(appVersion: string): ReadonlyMap<AssetPath, PageAsset> {
  const assets = new Map<AssetPath, PageAsset>();
  for (const assetPath of ASSET_PATHS) {
    const { file, contentType } = FILES[assetPath];
    let body = readFileSync(path.join(PUBLIC_DIR, file), 'utf8');
    if (file === 'index.html') body = body.replaceAll('{{APP_VERSION}}', escapeHtml(appVersion));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(assetPath, { body, contentType, etag });
  }
  return assets;
}
