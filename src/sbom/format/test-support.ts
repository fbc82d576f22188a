/**
 * Test-only support for the format tests (not exported from index.ts; imports the dev
 * dependencies ajv and ajv-formats): the official schemas compiled with ajv, and Sboms built
 * by hand from real Debian, Alpine, Fedora and language-ecosystem package data.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { type Digest, digestOf } from '../../digest/digest.ts';
import {
  type Location,
  type OsInfo,
  type Package,
  type PackageType,
  packageId,
  type Sbom,
} from '../model.ts';
import { languagePurl, osPackagePurl } from '../purl.ts';

const addFormats = addFormatsModule.default;
const schemaDir = new URL('./schemas/', import.meta.url);
const loadSchema = (rel: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(rel, schemaDir), 'utf8'));

/** RFC 6531 is loose; the schema only needs "something@host" without spaces. */
const IDN_EMAIL = /^[^\s@]+@[^\s@]+$/;
/** RFC 3987 IRI-reference: any string without whitespace or characters IRIs exclude. */
const IRI_REFERENCE = /^[^\s<>"{}|\\^`]*$/;

function newAjv(): Ajv {
  // draft-07 is Ajv's default dialect; strict mode off because the official schemas use
  // keywords Ajv does not know (`meta:enum`, `deprecated`) and `$comment`s.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('idn-email', IDN_EMAIL);
  ajv.addFormat('iri-reference', IRI_REFERENCE);
  return ajv;
}

let cdx: ValidateFunction | undefined;
let spdx: ValidateFunction | undefined;

/** CycloneDX 1.6 (bom-1.6.schema.json with its spdx.schema.json and jsf-0.82.schema.json). */
export function cycloneDxValidator(): ValidateFunction {
  if (!cdx) {
    const ajv = newAjv();
    ajv.addSchema(loadSchema('cyclonedx/spdx.schema.json'));
    ajv.addSchema(loadSchema('cyclonedx/jsf-0.82.schema.json'));
    cdx = ajv.compile(loadSchema('cyclonedx/bom-1.6.schema.json'));
  }
  return cdx;
}

/** SPDX 2.3 (spdx-schema.json). */
export function spdxValidator(): ValidateFunction {
  spdx ??= newAjv().compile(loadSchema('spdx/spdx-schema.json'));
  return spdx;
}

/** Validation errors as readable lines (empty when valid). */
export function schemaErrors(validate: ValidateFunction, doc: unknown): string[] {
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}

// --- sample SBOMs ----------------------------------------------------------------------------

export const LAYERS: Digest[] = [digestOf('base layer'), digestOf('app layer')];
export const DEBIAN: OsInfo = {
  id: 'debian',
  versionId: '12',
  versionCodename: 'bookworm',
  prettyName: 'Debian GNU/Linux 12 (bookworm)',
};

interface Spec {
  type: PackageType;
  name: string;
  version: string;
  purl: string;
  licenses?: string[];
  path: string;
  layer?: Digest;
  foundBy: string;
  arch?: string;
  source?: { name: string; version: string };
  ownedBy?: string;
  metadata?: Record<string, unknown>;
  extraLocations?: Location[];
}

export function pkg(s: Spec): Package {
  const locations: Location[] = [
    { path: s.path, ...(s.layer ? { layer: s.layer } : {}) },
    ...(s.extraLocations ?? []),
  ];
  const p: Package = {
    id: packageId({ type: s.type, name: s.name, version: s.version, locations }),
    type: s.type,
    name: s.name,
    version: s.version,
    purl: s.purl,
    licenses: s.licenses ?? [],
    locations,
    foundBy: s.foundBy,
  };
  if (s.arch !== undefined) p.arch = s.arch;
  if (s.source !== undefined) p.source = s.source;
  if (s.ownedBy !== undefined) p.ownedBy = s.ownedBy;
  if (s.metadata !== undefined) p.metadata = s.metadata;
  return p;
}

function deb(
  name: string,
  version: string,
  arch: string,
  licenses: string[],
  source?: { name: string; version: string },
  maintainer?: string,
): Package {
  return pkg({
    type: 'deb',
    name,
    version,
    arch,
    licenses,
    purl: osPackagePurl('deb', DEBIAN, name, version, { arch, ...(source ? { source } : {}) }),
    path: '/var/lib/dpkg/status',
    layer: LAYERS[0]!,
    foundBy: 'dpkg-db',
    ...(source ? { source } : {}),
    ...(maintainer ? { metadata: { maintainer } } : {}),
    extraLocations: [{ path: `/usr/share/doc/${name}/copyright`, layer: LAYERS[0]! }],
  });
}

/**
 * An image SBOM with every PackageType, ownedBy nesting (python3-requests owns requests,
 * node-semver owns semver), licenses of each kind (listed id, compound expression, free text,
 * LicenseRef-), depends-on relationships, problems and unowned files. Values are real: the
 * Debian ones from bookworm's dpkg status, the others from their registries.
 */
export function sampleImageSbom(): Sbom {
  const libc6 = deb(
    'libc6',
    '2.36-9+deb12u14',
    'amd64',
    ['LGPL-2.1-or-later', 'GPL-2.0-or-later'],
    { name: 'glibc', version: '2.36-9+deb12u14' },
    'GNU Libc Maintainers <debian-glibc@lists.debian.org>',
  );
  const libssl3 = deb(
    'libssl3',
    '3.0.19-1~deb12u2',
    'amd64',
    ['Apache-2.0'],
    { name: 'openssl', version: '3.0.19-1~deb12u2' },
    'Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>',
  );
  const zlib = deb('zlib1g', '1:1.2.13.dfsg-1', 'amd64', ['Zlib'], {
    name: 'zlib',
    version: '1:1.2.13.dfsg-1',
  });
  const bash = deb('bash', '5.2.15-2+b8', 'amd64', ['GPL-3+', 'BSD-4-Clause-UC'], {
    name: 'bash',
    version: '5.2.15-2',
  });
  const perl = deb('perl-base', '5.36.0-7+deb12u2', 'amd64', ['GPL-1.0-or-later OR Artistic-1.0-Perl'], {
    name: 'perl',
    version: '5.36.0-7+deb12u2',
  });
  const tzdata = deb('tzdata', '2025b-0+deb12u2', 'all', ['public-domain']);
  const pyRequestsDeb = deb(
    'python3-requests',
    '2.28.1+dfsg-1',
    'all',
    ['Apache-2.0'],
    { name: 'requests', version: '2.28.1+dfsg-1' },
    'Debian Python Team <team+python@tracker.debian.org>',
  );
  const nodeSemverDeb = deb('node-semver', '7.3.5+~7.3.9-2', 'all', ['ISC'], {
    name: 'node-semver',
    version: '7.3.5+~7.3.9-2',
  });
  const requests = pkg({
    type: 'pypi',
    name: 'requests',
    version: '2.28.1',
    purl: languagePurl('pypi', { name: 'requests', version: '2.28.1' }),
    licenses: ['Apache-2.0'],
    path: '/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO',
    layer: LAYERS[0]!,
    foundBy: 'python-package',
    ownedBy: pyRequestsDeb.id,
    metadata: { author: 'Kenneth Reitz' },
  });
  const semver = pkg({
    type: 'npm',
    name: 'semver',
    version: '7.3.5',
    purl: languagePurl('npm', { name: 'semver', version: '7.3.5' }),
    licenses: ['ISC'],
    path: '/usr/share/nodejs/semver/package.json',
    layer: LAYERS[0]!,
    foundBy: 'npm-package',
    ownedBy: nodeSemverDeb.id,
  });
  const babel = pkg({
    type: 'npm',
    name: '@babel/core',
    version: '7.24.0',
    purl: languagePurl('npm', { namespace: '@babel', name: 'core', version: '7.24.0' }),
    licenses: ['MIT'],
    path: '/app/node_modules/@babel/core/package.json',
    layer: LAYERS[1]!,
    foundBy: 'npm-package',
  });
  const urllib3 = pkg({
    type: 'pypi',
    name: 'urllib3',
    version: '2.2.1',
    purl: languagePurl('pypi', { name: 'urllib3', version: '2.2.1' }),
    licenses: ['MIT'],
    path: '/app/venv/lib/python3.11/site-packages/urllib3-2.2.1.dist-info/METADATA',
    layer: LAYERS[1]!,
    foundBy: 'python-package',
  });
  const cosign = pkg({
    type: 'golang',
    name: 'github.com/sigstore/cosign/v2',
    version: 'v2.2.3',
    purl: languagePurl('golang', { namespace: 'github.com/sigstore/cosign', name: 'v2', version: 'v2.2.3' }),
    path: '/usr/local/bin/cosign',
    layer: LAYERS[1]!,
    foundBy: 'go-module-binary',
    metadata: { goVersion: 'go1.21.6', main: true, buildSettings: [{ key: 'CGO_ENABLED', value: '0' }] },
  });
  const stdlib = pkg({
    type: 'golang',
    name: 'stdlib',
    version: 'go1.21.6',
    purl: languagePurl('golang', { name: 'stdlib', version: 'go1.21.6' }),
    licenses: ['BSD-3-Clause'],
    path: '/usr/local/bin/cosign',
    layer: LAYERS[1]!,
    foundBy: 'go-module-binary',
  });
  const lang3 = pkg({
    type: 'maven',
    name: 'commons-lang3',
    version: '3.12.0',
    purl: languagePurl('maven', {
      namespace: 'org.apache.commons',
      name: 'commons-lang3',
      version: '3.12.0',
    }),
    licenses: ['Apache-2.0'],
    path: '/app/lib/commons-lang3-3.12.0.jar',
    layer: LAYERS[1]!,
    foundBy: 'java-archive',
    metadata: { groupId: 'org.apache.commons', artifactId: 'commons-lang3' },
  });
  const rand = pkg({
    type: 'cargo',
    name: 'rand',
    version: '0.8.5',
    purl: languagePurl('cargo', { name: 'rand', version: '0.8.5' }),
    licenses: ['MIT OR Apache-2.0'],
    path: '/usr/local/bin/ripgrep',
    layer: LAYERS[1]!,
    foundBy: 'cargo-auditable-binary',
  });
  const rake = pkg({
    type: 'gem',
    name: 'rake',
    version: '13.0.6',
    purl: languagePurl('gem', { name: 'rake', version: '13.0.6' }),
    licenses: ['MIT'],
    path: '/usr/lib/ruby/gems/3.1.0/specifications/default/rake-13.0.6.gemspec',
    layer: LAYERS[1]!,
    foundBy: 'ruby-gemspec',
  });
  // Not Debian: an apk and an rpm as a multi-distro tool would see in other images.
  const musl = pkg({
    type: 'apk',
    name: 'musl',
    version: '1.2.4_git20230717-r4',
    purl: osPackagePurl('apk', { id: 'alpine', versionId: '3.19.1' }, 'musl', '1.2.4_git20230717-r4', {
      arch: 'x86_64',
    }),
    licenses: ['MIT'],
    path: '/lib/apk/db/installed',
    layer: LAYERS[1]!,
    foundBy: 'apk-db',
    arch: 'x86_64',
    source: { name: 'musl', version: '1.2.4_git20230717-r4' },
  });
  const rpmBash = pkg({
    type: 'rpm',
    name: 'bash',
    version: '5.2.26-3.fc40',
    purl: osPackagePurl('rpm', { id: 'fedora', versionId: '40' }, 'bash', '5.2.26-3.fc40', {
      arch: 'x86_64',
      sourceRpm: 'bash-5.2.26-3.fc40.src.rpm',
    }),
    licenses: ['GPL-3.0-or-later'],
    path: '/var/lib/rpm/rpmdb.sqlite',
    layer: LAYERS[1]!,
    foundBy: 'rpm-db',
    arch: 'x86_64',
  });
  const packages = [
    libc6,
    libssl3,
    zlib,
    bash,
    perl,
    tzdata,
    pyRequestsDeb,
    nodeSemverDeb,
    requests,
    semver,
    babel,
    urllib3,
    cosign,
    stdlib,
    lang3,
    rand,
    rake,
    musl,
    rpmBash,
  ];
  return {
    subject: {
      kind: 'image',
      name: '127.0.0.1:5000/app:1.0',
      repository: 'app',
      tag: '1.0',
      digest: digestOf('manifest'),
      platform: { os: 'linux', architecture: 'amd64' },
      layers: [...LAYERS],
    },
    os: { ...DEBIAN },
    packages,
    relationships: [
      { from: libssl3.id, to: libc6.id, type: 'depends-on' },
      { from: bash.id, to: libc6.id, type: 'depends-on' },
      { from: cosign.id, to: stdlib.id, type: 'depends-on' },
      { from: pyRequestsDeb.id, to: urllib3.id, type: 'depends-on' },
    ],
    problems: [
      {
        cataloger: 'python-package',
        path: '/app/venv/lib/python3.11/site-packages/broken-1.0.dist-info/METADATA',
        layer: LAYERS[1]!,
        message: 'no Name: header',
      },
      {
        cataloger: 'dpkg-db',
        path: '/var/lib/dpkg/status',
        layer: LAYERS[0]!,
        message: 'stanza 12: no Version',
      },
    ],
    unowned: [
      {
        path: '/usr/local/bin/helper',
        layer: LAYERS[1]!,
        digest: digestOf('helper binary'),
        kind: 'executable',
      },
      { path: '/opt/lib/libfoo.so.1', layer: LAYERS[1]!, kind: 'shared-library' },
    ],
    created: '2024-05-01T12:00:00Z',
    tool: { name: 'vouch', version: '0.1.0' },
  };
}

/** A directory scan: no layers, no OS, two packages. */
export function sampleDirectorySbom(): Sbom {
  const express = pkg({
    type: 'npm',
    name: 'express',
    version: '4.19.2',
    purl: languagePurl('npm', { name: 'express', version: '4.19.2' }),
    licenses: ['MIT'],
    path: '/srv/app/node_modules/express/package.json',
    foundBy: 'npm-package',
  });
  const flask = pkg({
    type: 'pypi',
    name: 'Flask',
    version: '3.0.3',
    purl: languagePurl('pypi', { name: 'Flask', version: '3.0.3' }),
    licenses: ['BSD-3-Clause'],
    path: '/srv/app/venv/lib/python3.11/site-packages/flask-3.0.3.dist-info/METADATA',
    foundBy: 'python-package',
  });
  return {
    subject: { kind: 'directory', name: './rootfs', path: '/tmp/rootfs' },
    packages: [express, flask],
    relationships: [],
    problems: [],
    unowned: [],
    created: '2024-05-01T12:00:00.123Z',
    tool: { name: 'vouch', version: '0.1.0' },
  };
}

// --- typed views of the written JSON, for assertions -------------------------------------------

export interface CdxProperty {
  name: string;
  value: string;
}

export interface CdxComponent {
  'bom-ref'?: string;
  type: string;
  name: string;
  version?: string;
  description?: string;
  purl?: string;
  supplier?: { name: string };
  hashes?: { alg: string; content: string }[];
  licenses?: (
    | { license: { id?: string; name?: string; acknowledgement?: string } }
    | { expression: string }
  )[];
  properties?: CdxProperty[];
  components?: CdxComponent[];
  evidence?: { occurrences?: { location: string }[] };
}

export interface CdxDoc {
  bomFormat: string;
  specVersion: string;
  serialNumber: string;
  version: number;
  metadata: {
    timestamp?: string;
    tools: { components: CdxComponent[] };
    component: CdxComponent;
    properties?: CdxProperty[];
  };
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

export interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  supplier?: string;
  originator?: string;
  downloadLocation: string;
  filesAnalyzed?: boolean;
  checksums?: { algorithm: string; checksumValue: string }[];
  licenseConcluded?: string;
  licenseDeclared?: string;
  copyrightText?: string;
  description?: string;
  sourceInfo?: string;
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
  primaryPackagePurpose?: string;
  annotations?: { annotationDate: string; annotationType: string; annotator: string; comment: string }[];
}

export interface SpdxDoc {
  spdxVersion: string;
  dataLicense: string;
  SPDXID: string;
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[]; licenseListVersion?: string };
  packages: SpdxPackage[];
  hasExtractedLicensingInfos?: { licenseId: string; extractedText: string; name?: string }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
  annotations?: { annotationDate: string; annotationType: string; annotator: string; comment: string }[];
}
