// What the service knows about its model. It changes only by whole values: a request sees either
// no model or a completely loaded one.
import type { LoadedModel } from './artifact.ts';

export type ModelState =
  | { status: 'loading'; waitingFor: string }
  | { status: 'ready'; loaded: LoadedModel }
  | { status: 'failed'; problem: string };

export function describeUnready(state: Exclude<ModelState, { status: 'ready' }>): string {
  switch (state.status) {
    case 'loading':
      return `model not loaded yet: ${state.waitingFor}`;
    case 'failed':
      return `model failed to load: ${state.problem}`;
  }
}
