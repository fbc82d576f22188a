/**
 * Open the artifact store a configuration names: `store:` of vouch.yaml (PipelineConfig['store']
 * has this shape) or a store URL from the command line (url.ts).
 */
import { DirectoryStore, type DirectoryStoreOptions } from './directory.ts';
import { S3Store, type S3StoreConfig, type S3StoreOptions } from './s3.ts';
import type { ArtifactStore } from './store.ts';

export type StoreConfig = { kind: 'directory'; directory: string } | ({ kind: 's3' } & S3StoreConfig);

export type OpenStoreOptions = DirectoryStoreOptions & S3StoreOptions;

export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<ArtifactStore> {
  switch (config.kind) {
    case 'directory':
      return DirectoryStore.open(config.directory, options);
    case 's3': {
      const { kind: _kind, ...s3 } = config;
      return new S3Store(s3, options);
    }
  }
}
