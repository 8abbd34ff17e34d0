package io.knowngood.replication;

/** Told each time this node holds (stored, or confirmed it already holds) a stamp of a name ({@link AntiEntropy} announces it). */
@FunctionalInterface
interface HeldListener {
  void held(String name, VersionStamp stamp);
}
