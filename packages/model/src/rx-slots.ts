// How netback lays a received frame onto guest RX ring slots and grant-copy operations (Linux xen-netback rx.c).

/** XEN_PAGE_SIZE: every RX request posts one 4 KiB page; a grant copy never crosses a page on either side. */
export const XEN_PAGE_SIZE = 4096;

/** ETH_FCS_LEN: the NIC strips the frame check sequence, so netback's skb is the frame less 4 bytes. */
export const ETH_FCS_LEN = 4;

/**
 * Where a received frame's data starts in its 4 KiB source page [assumption]: NET_SKB_PAD (64 bytes on
 * x86) of headroom in a buffer that starts on a page boundary, as a driver that builds its skb around the
 * receive buffer (ixgbe's build_skb layout) leaves it. With this offset a frame of up to 4032 bytes is one
 * copy; anything longer is cut where the source page ends as well as where each destination page ends.
 */
export const RX_SOURCE_OFFSET = 64;

/**
 * Slots of the frame's data: DIV_ROUND_UP(skb->len, XEN_PAGE_SIZE), as xenvif_update_needed_slots counts
 * them (no GSO in the model, so no GSO extra slot). At least one.
 */
export function rxDataSlots(frameBytes: number): number {
  const len = frameBytes - ETH_FCS_LEN;
  return len <= XEN_PAGE_SIZE ? 1 : Math.ceil(len / XEN_PAGE_SIZE);
}

/**
 * Grant-copy operations for one frame: xenvif_rx_next_chunk cuts the data where the destination page
 * (a fresh 4 KiB page per slot, offset 0: no XDP headroom) or the source page ends, and
 * xenvif_rx_copy_add queues one gnttab_copy per chunk. With the source at RX_SOURCE_OFFSET the two
 * sets of cuts never coincide, so ops = 1 + destination cuts + source cuts.
 */
export function rxCopyOps(frameBytes: number): number {
  const len = frameBytes - ETH_FCS_LEN;
  if (len <= 0) return 1;
  const destinationCuts = Math.floor((len - 1) / XEN_PAGE_SIZE);
  const sourceCuts = Math.floor((RX_SOURCE_OFFSET + len - 1) / XEN_PAGE_SIZE);
  return 1 + destinationCuts + sourceCuts;
}

/** Ring slots one frame takes: its data slots, plus one for each extra-info segment (the Toeplitz hash). */
export function rxSlots(frameBytes: number, extraSlots: number): number {
  return rxDataSlots(frameBytes) + extraSlots;
}
