// One event channel's lose- / delay-notifications fault state: set by a fault command, drawn once per notification (receive and transmit paths alike).
import type { Prng } from './prng.js';
import type { Nanos } from './time.js';

/**
 * What the lose-… and delay-…notifications actions hold for one port: a probability each and the fault
 * occurrence's own random stream, so that the same seed loses and delays the same notifications. A
 * probability of 1 (the default) draws nothing; 0 means the fault is off.
 */
export class NotificationFault {
  private loseP = 0;
  private losePrng: Prng | null = null;
  private delayP = 0;
  private delayPrng: Prng | null = null;
  /** How much later a delayed notification arrives. */
  delayNs: Nanos = 0;

  /** lose-…notifications starts (`on`: each notification lost with `probability`, default 1) or ends. */
  setLoss(on: boolean, probability: number | undefined, prng: Prng | null): void {
    this.loseP = on ? (probability ?? 1) : 0;
    this.losePrng = prng;
  }

  /** delay-…notifications starts (`on`: each delayed by `delay` with `probability`, default 1) or ends. */
  setDelay(on: boolean, probability: number | undefined, delay: Nanos | undefined, prng: Prng | null): void {
    this.delayP = on ? (probability ?? 1) : 0;
    this.delayNs = on ? (delay ?? 0) : 0;
    this.delayPrng = prng;
  }

  /** Whether this notification is lost. */
  loses(): boolean {
    return this.loseP > 0 && (this.loseP >= 1 || (this.losePrng as Prng).next() < this.loseP);
  }

  /** Whether this notification is delayed (by delayNs). */
  delays(): boolean {
    return this.delayP > 0 && (this.delayP >= 1 || (this.delayPrng as Prng).next() < this.delayP);
  }
}
