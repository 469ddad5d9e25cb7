/**
 * The changes a converging function makes, in words, for the step's detail and the drift reports. In a dry run
 * nothing is changed: every check is still made, and each change that would be made is listed as "would ...".
 */
export class Changes {
  readonly entries: string[] = [];

  constructor(readonly dryRun = false) {}

  /**
   * Makes one change, unless this is a dry run, and lists it: `done` once made, `would ${wouldDo}` in a dry run.
   * `apply` answering `'not-needed'` (the thing was already so, found out by trying) lists nothing.
   */
  async make(done: string, wouldDo: string, apply: () => Promise<unknown>): Promise<boolean> {
    if (this.dryRun) {
      this.entries.push(`would ${wouldDo}`);
      return true;
    }
    if ((await apply()) === 'not-needed') return false;
    this.entries.push(done);
    return true;
  }

  get count(): number {
    return this.entries.length;
  }
}
