/**
 * The JSON Schema of `vouch.yaml` (draft 2020-12 subset that ajv checks). It is the single
 * description of the file: validation, error messages and `vouch init` all follow it.
 */

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

export const STAGES = [
  'build',
  'harden',
  'flatten',
  'test',
  'sbom',
  'scan',
  'provenance',
  'sign',
  'push',
] as const;
export type Stage = (typeof STAGES)[number];

export const ARCHITECTURES = ['amd64', 'arm64', 'arm', '386', 'ppc64le', 's390x', 'riscv64'] as const;

export const PIPELINE_SCHEMA = {
  $id: 'https://vouch.dev/schemas/pipeline/v1',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'image', 'base'],
  properties: {
    apiVersion: { const: 'vouch.dev/v1' },
    kind: { const: 'Pipeline' },
    image: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version'],
      properties: {
        /** registry/repository, without tag or digest */
        name: { type: 'string', pattern: '^[^@]+$', minLength: 1 },
        version: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$', not: { const: 'latest' } },
        architectures: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: [...ARCHITECTURES] },
        },
      },
    },
    base: {
      type: 'object',
      additionalProperties: false,
      required: ['image'],
      properties: {
        /** `scratch`, or an image pinned by digest (`name@sha256:…`, `oci:DIR@sha256:…`) */
        image: { type: 'string', minLength: 1 },
      },
    },
    layers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['source', 'target'],
        properties: {
          source: { type: 'string', minLength: 1 },
          target: { type: 'string', pattern: '^/' },
          owner: { type: 'string', pattern: '^[0-9]+(:[0-9]+)?$' },
          mode: { type: 'string', pattern: '^0?[0-7]{3,4}$' },
        },
      },
    },
    config: {
      type: 'object',
      additionalProperties: false,
      properties: {
        user: { type: 'string', minLength: 1 },
        env: stringMap,
        entrypoint: stringList,
        cmd: stringList,
        workdir: { type: 'string', pattern: '^/' },
        ports: { type: 'array', items: { type: 'string', pattern: '^[0-9]{1,5}(/(tcp|udp|sctp))?$' } },
        volumes: { type: 'array', items: { type: 'string', pattern: '^/' } },
        stopSignal: { type: 'string', pattern: '^(SIG[A-Z0-9]+|[0-9]+)$' },
        labels: stringMap,
      },
    },
    harden: {
      type: 'object',
      additionalProperties: false,
      properties: {
        removePackageManagers: { type: 'boolean' },
        removeDocs: { type: 'boolean' },
        removeCaches: { type: 'boolean' },
        user: { type: 'string', minLength: 1 },
      },
    },
    tests: {
      type: 'object',
      additionalProperties: false,
      properties: {
        files: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['path'],
            properties: {
              path: { type: 'string', pattern: '^/' },
              mode: { type: 'string', pattern: '^0?[0-7]{3,4}$' },
              owner: { type: 'string', pattern: '^[0-9]+(:[0-9]+)?$' },
              absent: { type: 'boolean' },
            },
          },
        },
      },
    },
    gate: {
      type: 'object',
      additionalProperties: false,
      properties: {
        severities: {
          type: 'array',
          minItems: 1,
          items: { enum: ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] },
        },
        ignoreUnfixed: { type: 'boolean' },
        ignoreFile: { type: 'string', minLength: 1 },
        vex: stringList,
        db: { type: 'string', minLength: 1 },
      },
    },
    signing: {
      type: 'object',
      additionalProperties: false,
      properties: {
        key: { type: 'string', minLength: 1 },
        keyless: {
          type: 'object',
          additionalProperties: false,
          properties: {
            fulcioUrl: { type: 'string', pattern: '^https?://' },
            rekorUrl: { type: 'string', pattern: '^https?://' },
            tsaUrl: { type: 'string', pattern: '^https?://' },
          },
        },
        storage: { enum: ['tag', 'referrers'] },
      },
      not: { required: ['key', 'keyless'] },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      properties: {
        directory: { type: 'string', minLength: 1 },
        s3: {
          type: 'object',
          additionalProperties: false,
          required: ['bucket'],
          properties: {
            endpoint: { type: 'string' },
            bucket: { type: 'string', minLength: 3 },
            prefix: { type: 'string' },
            region: { type: 'string' },
            forcePathStyle: { type: 'boolean' },
          },
        },
      },
      not: { required: ['directory', 's3'] },
    },
    /**
     * Where `push` publishes: absent = the registry image.name names; `oci:DIR` = an OCI layout
     * standing in for the registry (offline demos), written in the same order.
     */
    target: { type: 'string', pattern: '^oci:[^:]+$' },
    stages: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: [...STAGES] },
    },
  },
} as const;
