/** (h) 2,000 packages against the real Go + PyPI records in a SQLite database: warm scan < 100 ms. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMatchBench } from '../../../bench/match.ts';
import { SHARED_OSV } from '../../../test/fixtures/osv/memory-db.ts';

const present = existsSync(join(SHARED_OSV, 'go')) && existsSync(join(SHARED_OSV, 'pypi'));

test(
  'matching 2,000 packages on a warm database takes under 100 ms',
  { skip: !present && 'no OSV data' },
  async () => {
    const r = await runMatchBench({ rounds: 5, quiet: true });
    console.log(
      `# match bench: ${r.packages} packages, cold ${r.coldMs.toFixed(0)} ms, warm ${r.warmMs.toFixed(1)} ms, ${r.findings} findings`,
    );
    assert.equal(r.packages, 2000);
    assert.equal(r.records, 6952);
    assert.ok(r.findings > 1000, `${r.findings} findings`);
    assert.ok(r.warmMs < 100, `warm scan took ${r.warmMs.toFixed(1)} ms`);
  },
);
