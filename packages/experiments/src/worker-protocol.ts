// Messages between a sweep and its worker threads (plain data: they are structured-cloned).
import type { ErrorCode } from '@splitnet/model';
import type { RunSpec } from './plan.js';

export interface ToWorker {
  readonly spec: RunSpec;
  /** The run's results directory once complete. */
  readonly dir: string;
  /** Where the results are written first. */
  readonly partial: string;
  /** Host facts for environment.json (version, git revision, command line…); the worker adds the run's own. */
  readonly environment: Readonly<Record<string, unknown>>;
}

export type FromWorker =
  | { readonly kind: 'progress'; readonly run: string; readonly done: number; readonly total: number }
  | { readonly kind: 'done'; readonly run: string; readonly balanced: boolean; readonly wallSeconds: number }
  | { readonly kind: 'failed'; readonly run: string; readonly code: ErrorCode; readonly message: string; readonly stack?: string };
