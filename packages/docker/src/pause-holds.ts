// Who holds a container paused: a fault on its emulated node, a fault on the actor it hosts, or both at once.

/**
 * `docker pause` of a container that is already paused fails, and an unpause for one fault would thaw
 * a container another fault still holds. So each fault takes a hold on the container: the first hold
 * pauses it, the last release unpauses it. Shared by the node faults (DockerFaults) and the supervisor's
 * signals to one actor's container (DockerContainers).
 */
export class PauseHolds {
  private readonly holds = new Map<string, Set<string>>();

  /** `by` holds `container` paused; true when it is the first hold (pause it now). */
  hold(container: string, by: string): boolean {
    let h = this.holds.get(container);
    if (!h) {
      h = new Set();
      this.holds.set(container, h);
    }
    const first = h.size === 0;
    h.add(by);
    return first;
  }

  /** `by` lets `container` go; true when no hold remains (unpause it now). False also when `by` held none. */
  release(container: string, by: string): boolean {
    const h = this.holds.get(container);
    if (!h || !h.delete(by)) return false;
    if (h.size > 0) return false;
    this.holds.delete(container);
    return true;
  }

  /** `container` exited (a kill, a crash): holds on it end with it; its successor is a new container, not paused. */
  forget(container: string): void {
    this.holds.delete(container);
  }

  /** Whether any fault holds `container` paused. */
  held(container: string): boolean {
    return (this.holds.get(container)?.size ?? 0) > 0;
  }

  /** Faults other than `by` holding `container` paused. */
  othersHolding(container: string, by: string): string[] {
    return [...(this.holds.get(container) ?? [])].filter((x) => x !== by);
  }
}
