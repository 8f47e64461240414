// Mocha root hooks: the one control plane of a test run is stopped when the run ends.
import { releaseCluster } from './cluster.ts';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await releaseCluster();
  },
};
