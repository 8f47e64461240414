import assert from 'node:assert/strict';
import { deduplicate, parseLabelledText, readDataset } from '../../../src/model/dataset.ts';
import { FIXTURE_CORPUS } from '../../support/model-service.ts';

describe('labelled SMS files', () => {
  it('reads label and text per line, allowing CRLF and a missing final newline', () => {
    assert.deepEqual(parseLabelledText('ham\tHi there\r\nspam\tWin £5\tnow\n\nham\tok', 'x'), [
      { label: 'ham', text: 'Hi there' },
      { label: 'spam', text: 'Win £5\tnow' },
      { label: 'ham', text: 'ok' },
    ]);
  });

  it('names the line of a bad label or a missing tab', () => {
    assert.throws(() => parseLabelledText('ham\tok\nSPAM\tx', 'data.tsv'), /data\.tsv:2: label must be "ham" or "spam", got "SPAM"/);
    assert.throws(() => parseLabelledText('ham ok', 'data.tsv'), /data\.tsv:1: expected "<ham\|spam><TAB><message>", found no tab/);
    assert.throws(() => parseLabelledText('\n\n', 'empty.tsv'), /empty\.tsv: no labelled messages/);
  });

  it('drops exact duplicates, keeping the first', () => {
    const messages = parseLabelledText('ham\ta\nspam\ta\nham\ta\nham\tb', 'x');
    assert.deepEqual(deduplicate(messages), [
      { label: 'ham', text: 'a' },
      { label: 'spam', text: 'a' },
      { label: 'ham', text: 'b' },
    ]);
  });

  it('hashes the file and says when it cannot be read', async () => {
    const dataset = await readDataset(FIXTURE_CORPUS);
    assert.equal(dataset.messages.length, 60);
    assert.match(dataset.sha256, /^[0-9a-f]{64}$/);
    await assert.rejects(readDataset('/nonexistent/file.tsv'), /cannot read labelled file \/nonexistent\/file\.tsv/);
  });
});
