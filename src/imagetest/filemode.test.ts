/** Go's FileMode.String() of a tar header, as container-structure-test compares permissions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { haveGo, runGo } from '../../test/imagetest/go-oracle.ts';
import type { EntryType } from '../fs/tar.ts';
import { goFileMode } from './filemode.ts';

const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

const CASES: [EntryType, number][] = [
  ['file', 0o755],
  ['file', 0o644],
  ['file', 0o4755],
  ['file', 0o2755],
  ['file', 0o6755],
  ['file', 0o1644],
  ['file', 0],
  ['hardlink', 0o640],
  ['dir', 0o755],
  ['dir', 0o1777],
  ['dir', 0o2775],
  ['dir', 0o700],
  ['symlink', 0o777],
  ['char', 0o666],
  ['char', 0o4666],
  ['block', 0o660],
  ['fifo', 0o644],
];

const ORACLE = `package main

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	var cases []struct {
		Typeflag string
		Mode     int64
	}
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	for _, c := range cases {
		h := tar.Header{Typeflag: c.Typeflag[0], Mode: c.Mode, Name: "x"}
		fmt.Println(h.FileInfo().Mode().String())
	}
}
`;

test('goFileMode matches Go for the usual cases', () => {
  assert.equal(goFileMode('file', 0o755), '-rwxr-xr-x');
  assert.equal(goFileMode('dir', 0o1777), 'dtrwxrwxrwx');
  assert.equal(goFileMode('symlink', 0o777), 'Lrwxrwxrwx');
  assert.equal(goFileMode('file', 0o4755), 'urwxr-xr-x');
  assert.equal(goFileMode('char', 0o666), 'Dcrw-rw-rw-');
});

test(
  'goFileMode equals archive/tar FileInfo().Mode().String() for every type',
  { skip: (await haveGo()) ? false : 'go is not installed (apt-get install golang-go)' },
  async () => {
    const out = await runGo(
      ORACLE,
      JSON.stringify(CASES.map(([t, mode]) => ({ Typeflag: TYPEFLAG[t], Mode: mode }))),
    );
    const want = out.trim().split('\n');
    assert.deepEqual(
      CASES.map(([t, mode]) => goFileMode(t, mode)),
      want,
    );
  },
);
