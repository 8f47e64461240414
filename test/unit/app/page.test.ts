import assert from 'node:assert/strict';
import { escapeHtml, loadPageAssets } from '../../../src/app/page.ts';

describe('page assets', () => {
  it('puts the app version in the footer, escaped', () => {
    const page = loadPageAssets('v2').get('/');
    assert.ok(page);
    assert.match(page.body, /<strong id="app-version">v2<\/strong>/);
    assert.equal(escapeHtml(`<script>"x"&'y'</script>`), '&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;');
  });

  it('has no inline script, inline style or outside resource, so the CSP can forbid them', () => {
    for (const [assetPath, asset] of loadPageAssets('v1')) {
      if (!asset.contentType.startsWith('text/html')) continue;
      assert.doesNotMatch(asset.body, /<script(?![^>]*\bsrc=)[^>]*>/, `${assetPath}: inline script`);
      assert.doesNotMatch(asset.body, /<style|\sstyle=|\son[a-z]+=/i, `${assetPath}: inline style or handler`);
      assert.doesNotMatch(asset.body, /(src|href)="(https?:)?\/\//, `${assetPath}: outside resource`);
    }
  });

  it('never parses text as HTML in the page script', () => {
    const script = loadPageAssets('v1').get('/app.js');
    assert.ok(script);
    assert.doesNotMatch(script.body, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('gives each version of a file its own ETag', () => {
    assert.notEqual(loadPageAssets('v1').get('/')?.etag, loadPageAssets('v2').get('/')?.etag);
    assert.equal(loadPageAssets('v1').get('/app.js')?.etag, loadPageAssets('v2').get('/app.js')?.etag);
  });
});
