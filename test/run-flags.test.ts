import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../src/cli/flags/args.ts';
import { HELP } from '../src/cli/flags/help.ts';
import { pickRunSettings } from '../src/cli/flags/pickRunSettings.ts';
import { restoreSettings } from '../src/cli/flags/restoreSettings.ts';
import { loadResumeSet } from '../src/cli/run/resume.ts';
import { restoreRunSettings, RUN_FLAGS, RUN_KEYS } from '../src/train/runFlags.ts';
import { messageOf } from './helpers.ts';

// A run setting's flag and parser live once, in the training core
// (src/train/runFlags.ts): the command line parses a typed flag with it, and
// the page reads a checkpoint's stored settings with it, without the command
// line. Both ways of reading a checkpoint give the same settings and the same
// refusals.

const FIXTURES = fileURLToPath(new URL('./fixtures/checkpoints/', import.meta.url));
const sources = { annotation: 'genes.gtf', expressionTable: 'rpkm.csv' };

/** What the command line makes of stored settings, as run settings. */
const viaCli = (raw: Readonly<Record<string, unknown>>, file: string) => pickRunSettings(restoreSettings(raw, file), sources);

describe('run flags, once in the training core', () => {
  it('reads the committed checkpoints the same way as the command line does', async () => {
    for (const dir of ['mlp', 'vae-mlp']) {
      const { info, from } = await loadResumeSet(`${FIXTURES}${dir}`);
      const page = restoreRunSettings(info.settings, from, sources);
      expect(page).toEqual(viaCli(info.settings, from));
      expect(page.model).toBe(dir);
    }
  });

  it('reads settings stored before later flags existed as their defaults, the same way as the command line does', async () => {
    const { info, from } = await loadResumeSet(`${FIXTURES}vae-mlp`);
    const { target: _t, jointWeight: _j, alpha: _a, vaeBatch: _v, m2Init: _m, ...old } = info.settings as Record<string, unknown>;
    const page = restoreRunSettings({ ...old, batch: 16 }, 'old.safetensors', sources);
    expect(page).toEqual(viaCli({ ...old, batch: 16 }, 'old.safetensors'));
    // vaeBatch from batch (split off it), m2Init 'random' (what its absence meant), target class.
    expect(page).toMatchObject({ vaeBatch: 16, m2Init: 'random', target: 'class', jointWeight: [10], alpha: [0.1] });
  });

  it('refuses a bad stored value with the same message either way', async () => {
    const { info } = await loadResumeSet(`${FIXTURES}mlp`);
    const bad: [string, unknown, string][] = [
      ['vaeBatch', 'big', '--vae-batch needs a positive integer, got "big"'],
      ['model', 'transformer', '--model must be one of'],
      ['seed', -3, '--seed needs an integer in [0, 4294967295], got "-3"'],
      ['alpha', [-1], '--alpha needs numbers >= 0, separated by commas; got "-1"'],
      ['neighbors', 'nearby', '--neighbors must be one of spatial, functional; got "nearby"'],
    ];
    for (const [key, value, expected] of bad) {
      const raw = { ...info.settings, [key]: value };
      const page = messageOf(() => restoreRunSettings(raw, 'bad.safetensors', sources));
      expect(page).toContain(`bad.safetensors: stored settings are invalid: ${expected}`);
      expect(messageOf(() => viaCli(raw, 'bad.safetensors'))).toBe(page);
    }
    const missing = { ...info.settings, lr: undefined };
    expect(messageOf(() => restoreRunSettings(missing, 'bad.safetensors', sources))).toBe('bad.safetensors: stored settings have no valid "lr" (undefined)');
    expect(messageOf(() => viaCli(missing, 'bad.safetensors'))).toBe('bad.safetensors: stored settings have no valid "lr" (undefined)');
  });

  it('has every run flag parsed by the command line as a usage error, and named in --help', () => {
    for (const key of RUN_KEYS) {
      const { flag } = RUN_FLAGS[key];
      expect(HELP, flag).toContain(`${flag} `);
      const refused = messageOf(() => parseArgs([flag, 'not-a-value!']));
      expect(refused.startsWith(flag), refused).toBe(true);
      try {
        parseArgs([flag, 'not-a-value!']);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
      }
    }
  });
});
