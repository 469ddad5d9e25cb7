import { describeCloud, parseCloudArgs, startCloudFromCli, stopOnSignal } from './local-cloud.ts';

/**
 * `npm start`: the whole local pipeline on one machine. Today that is the local cloud, seeded from
 * local/seed.json, with state kept in .vend/ across restarts.
 */
async function main(): Promise<void> {
  const options = parseCloudArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(
      'Usage: npm start -- [--port <n>] [--seed <file>] [--data-dir <dir>] [--in-memory] [--fresh]',
    );
    return;
  }
  const local = await startCloudFromCli(options);
  console.log('Vend local pipeline is running.\n');
  console.log(describeCloud(local, options));
  console.log('\nPress Ctrl+C to stop.');
  stopOnSignal(() => local.close());
}

main().catch((error: unknown) => {
  console.error(`vend: ${(error as Error).message}`);
  process.exit(2);
});
