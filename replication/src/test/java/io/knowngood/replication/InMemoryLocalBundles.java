package io.knowngood.replication;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The node's store as the tests need it: highest version per name, a rollback floor, and a record of every offer. */
final class InMemoryLocalBundles implements LocalBundles {
  private final Map<String, VerifiedBundle> highest = new HashMap<>();
  private final List<VerifiedBundle> offered = new ArrayList<>();

  @Override
  public synchronized Map<String, VersionStamp> digest() {
    Map<String, VersionStamp> d = new HashMap<>();
    highest.forEach((n, b) -> d.put(n, Ingest.stampOf(b)));
    return d;
  }

  @Override
  public synchronized Optional<VerifiedBundle> highest(String name) {
    return Optional.ofNullable(highest.get(name));
  }

  @Override
  public synchronized Admission offer(VerifiedBundle bundle, String source) {
    offered.add(bundle);
    VerifiedBundle held = highest.get(bundle.name());
    if (held != null && Ingest.stampOf(bundle).beats(Ingest.stampOf(held)) && bundle.version() == held.version()) {
      highest.put(bundle.name(), bundle); // a same-version tie from a peer: the lower manifest digest wins, as in node/
      return new Admission.Stored(bundle.version());
    }
    return store(bundle);
  }

  synchronized Optional<VersionStamp> stamp(String name) {
    VerifiedBundle b = highest.get(name);
    return b == null ? Optional.empty() : Optional.of(Ingest.stampOf(b));
  }

  /** What node/ does on an admin publish, before it calls {@link Mesh#publish}. */
  synchronized Admission store(VerifiedBundle bundle) {
    VerifiedBundle held = highest.get(bundle.name());
    if (held != null && bundle.version() <= held.version()) {
      return new Admission.Ignored("not newer than held v" + held.version());
    }
    highest.put(bundle.name(), bundle);
    return new Admission.Stored(bundle.version());
  }

  synchronized long version(String name) {
    VerifiedBundle b = highest.get(name);
    return b == null ? 0 : b.version();
  }

  synchronized List<VerifiedBundle> offered() {
    return List.copyOf(offered);
  }
}
