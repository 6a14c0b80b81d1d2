// What the controller holds of each actor process it launched: to watch its exit and to signal it.

/** A launched actor process (or in-process host) as the controller sees it. */
export interface ActorHandle {
  readonly name: string;
  /** Its OS process id (-1 when it runs in a container: see `container`). */
  readonly pid: number;
  /** The container it runs in (docker placement): signals act on the container (SIGSTOP/SIGCONT as docker pause/unpause). */
  readonly container?: string;
  /**
   * It stays up after its final report until the controller is gone (a container that joined the run, as
   * under compose), and its placement removes it: the controller does not wait for it to exit.
   */
  readonly lingers?: boolean;
  /** Resolves with the exit code when it ends. */
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Where a launched actor process runs, for messages: its pid, or its container. */
export function whereIs(h: ActorHandle): string {
  return h.container !== undefined ? `container ${h.container}` : `pid ${h.pid}`;
}

/** The same, as event details. */
export function whereDetail(h: ActorHandle): Record<string, unknown> {
  return h.container !== undefined ? { container: h.container } : { pid: h.pid };
}
