/**
 * What the real test images are made of. Pure data: build.ts turns a recipe into a root
 * filesystem (mmdebstrap from Debian's mirrors), an OCI layout and a docker-archive, and the
 * recipe's text is the cache key, so changing anything here rebuilds.
 *
 * Versions are not pinned (Debian's snapshot service is not reachable from here): the ground
 * truth taken from the real tools after each build records what was installed.
 */

/** A Go module served to `go build` from a file:// proxy made of a Debian golang-*-dev tree. */
export interface GoModuleSource {
  path: string;
  version: string;
  /** Debian package that installs the sources under /usr/share/gocode/src/<path>. */
  debianPackage: string;
}

/** A Go program built on the host with real modules (Debian's own Go binaries have no deps). */
export interface GoProgram {
  /** Where the binary goes in the image. */
  installPath: string;
  goMod: string;
  mainGo: string;
  modules: GoModuleSource[];
}

/** A Node.js app installed with the real npm from the npm registry. */
export interface NodeApp {
  /** Where the app goes in the image. */
  installPath: string;
  packageJson: Record<string, unknown>;
  indexJs: string;
}

export interface Recipe {
  name: string;
  suite: 'bookworm';
  variant: 'minbase';
  /** Extra Debian packages (mmdebstrap --include). */
  include: string[];
  /** Commands run in the chroot after installation (mmdebstrap --customize-hook). */
  chroot: string[];
  /** Second layer: files added on top of the Debian root filesystem. */
  go?: GoProgram;
  node?: NodeApp;
  /**
   * Third layer: whiteouts removing these image paths (globs with one trailing `*` allowed in
   * the last component), as a later `RUN rm -rf` or `pip uninstall` would.
   */
  remove: string[];
  /** Image config. */
  config: { Env: string[]; Cmd: string[]; WorkingDir?: string };
}

export const minbase: Recipe = {
  name: 'minbase',
  suite: 'bookworm',
  variant: 'minbase',
  include: [],
  chroot: [],
  remove: [],
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/bash'] },
};

const goHello: GoProgram = {
  installPath: '/usr/local/bin/hello-mod',
  modules: [
    {
      path: 'github.com/davecgh/go-spew',
      version: 'v1.1.1',
      debianPackage: 'golang-github-davecgh-go-spew-dev',
    },
    { path: 'github.com/google/uuid', version: 'v1.3.0', debianPackage: 'golang-github-google-uuid-dev' },
    { path: 'github.com/pkg/errors', version: 'v0.9.1', debianPackage: 'golang-github-pkg-errors-dev' },
  ],
  goMod: `module example.com/vouch/hello

go 1.19

require (
	github.com/davecgh/go-spew v1.1.1
	github.com/google/uuid v1.3.0
	github.com/pkg/errors v0.9.1
)
`,
  mainGo: `package main

import (
	"fmt"
	"os"

	"github.com/davecgh/go-spew/spew"
	"github.com/google/uuid"
	"github.com/pkg/errors"
)

func main() {
	id := uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://vouch.example/hello"))
	if len(os.Args) > 1 {
		fmt.Println(errors.Wrap(errors.New(os.Args[1]), "hello"))
	}
	spew.Dump(id.String())
}
`,
};

const nodeApp: NodeApp = {
  installPath: '/srv/app',
  packageJson: {
    name: 'vouch-test-app',
    version: '1.0.0',
    private: true,
    description: 'A small real Node.js app for vouch SBOM tests',
    main: 'index.js',
    dependencies: {
      '@babel/code-frame': '7.26.2',
      chalk: '4.1.2',
      commander: '12.1.0',
      // express@4 needs debug@2: npm nests that copy under express/node_modules.
      debug: '4.3.7',
      express: '4.21.2',
      'left-pad': '1.3.0',
      lodash: '4.17.21',
      semver: '7.6.3',
    },
  },
  indexJs: `'use strict';
const express = require('express');
const app = express();
app.get('/', (_req, res) => res.send('ok'));
app.listen(Number(process.env.PORT || 8080));
`,
};

export const rich: Recipe = {
  name: 'rich',
  suite: 'bookworm',
  variant: 'minbase',
  include: [
    // Python: the interpreter and libraries Debian ships as dist-info / egg-info.
    'python3',
    'python3-attr',
    'python3-jinja2',
    'python3-packaging',
    'python3-requests',
    'python3-six',
    'python3-venv',
    'python3-yaml',
    // Java: jars with META-INF/maven/**/pom.properties (no JRE needed to hold them).
    'libcommons-io-java',
    'libcommons-lang3-java',
    'libguava-java',
    'libjackson2-core-java',
    'libslf4j-java',
    // Go: small real Go programs (built without module deps by Debian).
    'age',
    'fzf',
    'gron',
    'shfmt',
  ],
  // A virtualenv holds pip and setuptools installed from wheels: Python packages no deb owns.
  chroot: ['python3 -m venv /opt/venv'],
  go: goHello,
  node: nodeApp,
  remove: [
    // pip uninstall setuptools, in a later layer
    '/opt/venv/lib/python3.11/site-packages/_distutils_hack',
    '/opt/venv/lib/python3.11/site-packages/distutils-precedence.pth',
    '/opt/venv/lib/python3.11/site-packages/pkg_resources',
    '/opt/venv/lib/python3.11/site-packages/setuptools',
    '/opt/venv/lib/python3.11/site-packages/setuptools-*.dist-info',
    // a jar of a deb package (its maven-repo symlinks are left dangling)
    '/usr/share/java/slf4j-simple.jar',
    // an npm package
    '/srv/app/node_modules/left-pad',
  ],
  config: {
    Env: ['PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['node', 'index.js'],
    WorkingDir: '/srv/app',
  },
};

export const RECIPES = { minbase, rich } as const;
export type RecipeName = keyof typeof RECIPES;
