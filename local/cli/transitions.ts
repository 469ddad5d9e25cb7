import { submitRequest } from '../../functions/shared/submit.ts';
import { scaledClock } from '../cloud/index.ts';
import { startLocalPipeline } from '../pipeline.ts';

/**
 * Prints the Step Functions state transitions (billed one by one) and step invocations of one vend, for
 * account creations of 1, 3, 10 and 30 simulated minutes, with the polling configuration of vend.config.json
 * except its first wait, set as on AWS (45 s).
 */
async function main(): Promise<void> {
  const speed = 1000;
  const rows: string[] = [];
  for (const minutes of [1, 3, 10, 30]) {
    const pipeline = await startLocalPipeline({ cloudPort: 0, clock: scaledClock(speed), speed });
    try {
      pipeline.config.creation.firstWaitSeconds = 45;
      pipeline.cloud.cloud.settings.creationDelayMs = minutes * 60_000;
      pipeline.cloud.cloud.settings.consistencyWindowMs = 0;
      const record = await submitRequest(
        pipeline.deps,
        pipeline.runner,
        { name: `measure-${minutes}`, organizationalUnit: 'Sandbox', owner: 'alice@example.com' },
        'arn:aws:iam::000000000000:user/local',
      );
      const execution = await pipeline.runner.get(record.requestId)!.done;
      const stored = (await pipeline.deps.requests.get(record.requestId))!;
      const polls = stored.steps.waitForAccount?.attempts ?? 0;
      rows.push(
        `| ${String(minutes).padStart(2)} min | ${execution.status.padEnd(9)} | ${String(execution.transitions).padStart(11)} | ${String(polls).padStart(5)} | ${String(3 * polls).padStart(15)} | ${String(execution.invocations).padStart(11)} |`,
      );
    } finally {
      await pipeline.close();
    }
  }
  console.log('| creation | result    | transitions | polls | poll transitions | invocations |');
  console.log('|---------:|-----------|------------:|------:|-----------------:|------------:|');
  for (const row of rows) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
