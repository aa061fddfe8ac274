/** `listModels`: the hub catalog, bundled folders and hub models found in the cache. */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_CATALOG, listModels } from '../../src/models/catalog.js';
import { testModel } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'medvlm-catalog-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('listModels', () => {
  it('lists catalog entries, bundled folders and cached hub models with their local dtypes', async () => {
    const cacheDir = join(root, 'cache');
    const bundledDir = join(root, 'bundled');
    mkdirSync(bundledDir, { recursive: true });
    cpSync(testModel('siglip'), join(bundledDir, 'tiny-siglip'), { recursive: true });
    cpSync(testModel('clip'), join(cacheDir, 'Xenova', 'clip-vit-base-patch32'), { recursive: true });
    cpSync(testModel('noTokenizer'), join(cacheDir, 'someone', 'partial-clip'), { recursive: true });

    const list = await listModels({ cacheDir, bundledDir });
    expect(list.slice(0, HUB_CATALOG.length).map((m) => m.id)).toEqual(HUB_CATALOG.map((e) => e.id));
    const byId = Object.fromEntries(list.map((m) => [m.id, m]));
    expect(byId['Xenova/clip-vit-base-patch32']).toMatchObject({ kind: 'hub', loadable: true, localDtypes: ['fp32', 'q8'] });
    expect(byId['Xenova/siglip-base-patch16-224']).toMatchObject({ family: 'siglip', localDtypes: [] });
    expect(byId['microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224']).toMatchObject({ loadable: false, medical: true });
    expect(byId['microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224'].note).toMatch(/open_clip/);
    expect(byId['tiny-siglip']).toMatchObject({ kind: 'bundled', family: 'siglip', localDtypes: ['fp32', 'q8'] });
    expect(byId['someone/partial-clip']).toMatchObject({ kind: 'hub', family: 'clip', localDtypes: [] });
    expect(list).toHaveLength(HUB_CATALOG.length + 2);
  });

  it('the shipped medvlm-tiny is listed as a bundled medical model; a bundled folder can opt out', async () => {
    const list = await listModels({ cacheDir: join(root, 'empty-cache') });
    expect(list.find((m) => m.id === 'medvlm-tiny')).toMatchObject({ kind: 'bundled', family: 'clip', medical: true, loadable: true });
    const bundledDir = join(root, 'opt-out');
    cpSync(testModel('clip'), join(bundledDir, 'general-clip'), { recursive: true });
    const config = JSON.parse(readFileSync(join(bundledDir, 'general-clip', 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(bundledDir, 'general-clip', 'config.json'), JSON.stringify({ ...config, medvlm: { ...(config.medvlm as object), medical: false } }));
    const other = await listModels({ cacheDir: join(root, 'empty-cache'), bundledDir });
    expect(other.find((m) => m.id === 'general-clip')).toMatchObject({ kind: 'bundled', medical: false });
  });
});
