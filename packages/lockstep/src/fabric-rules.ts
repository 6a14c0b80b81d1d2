// What a multi-host lockstep run's partitions accept from each other: only the fabric's frames (the rules are the controller's, which live shares).
export { fabricDecoderLimits, fabricSenderRule } from '@splitnet/controller';
