// Run by tests/helpers/s3-server.ts under Node (s3rver is a Node server): serves the folder
// argv[2] on 127.0.0.1 and a free port, with the bucket argv[3], and prints {"port": N} once
// listening. It stops on SIGTERM, and when its standard input closes (the test process is gone).
import S3rver from "s3rver";

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
const stop = () => server.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
