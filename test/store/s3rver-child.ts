/**
 * Runs s3rver in its own process for test/store/s3-server.ts. It must run under
 * `--openssl-legacy-provider`: s3rver encrypts ListObjectsV2 continuation tokens with DES,
 * which Node's OpenSSL 3 only offers from the legacy provider.
 * argv: DIRECTORY [BUCKET...]. Prints {"port":N} once listening; exits when stdin closes.
 */
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
if (!directory) throw new Error('usage: s3rver-child.ts DIRECTORY [BUCKET...]');
const server = new S3rver({
  port: 0,
  address: '127.0.0.1',
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  server.close().finally(() => process.exit(0));
});
