// STUB (to be implemented): Xen shared ring index arithmetic, front-end and back-end views.
export function pushNeedsNotify(oldProd: number, newProd: number, event: number): boolean {
  return ((newProd - event) >>> 0) < ((newProd - oldProd) >>> 0);
}
