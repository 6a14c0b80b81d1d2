// The faults lockstep cannot run exactly, refused before anything starts: the rest are applied in the partition of the actor or link they act on.
import { SplitnetError } from '@splitnet/model';
import { planFaults } from '@splitnet/controller';
import type { ActorGraph } from '@splitnet/controller';
import type { CompiledScenario } from '@splitnet/scenario';

/**
 * Checks a scenario's faults for lockstep (E_SCENARIO, one line): what sim refuses (the NATS server, Docker nodes),
 * and `reorder-messages` beside `delay-messages`. The link faults keep every link FIFO behind a delayed message
 * once any delay has been applied anywhere in the run (LinkFaults' floor), and from then on a reordered message
 * on another link sets that link's floor too: whether it does depends on a delay sent by another partition
 * before it, which a partition cannot know at that instant. Each alone is exact (per-link draws and floors).
 */
export function checkLockstepFaults(s: CompiledScenario, g: ActorGraph): void {
  if (s.faults.length === 0) return;
  planFaults(s, g, 'sim');
  const reorder = s.faults.find((f) => f.action === 'reorder-messages');
  const delay = s.faults.find((f) => f.action === 'delay-messages');
  if (reorder !== undefined && delay !== undefined)
    throw new SplitnetError(
      'E_SCENARIO',
      `lockstep: faults ${reorder.id} (reorder-messages) and ${delay.id} (delay-messages) in one run cannot be exact across partitions (a reordered message keeps its link FIFO only once a delay has been applied anywhere in the run: docs/lockstep.md#faults); run it in sim, or drop one of them`,
    );
}
