package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.replication.MeshRecords.PutResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The records' logic on an in-memory stand-in for the cache, with the time advanced by hand: no cluster, no sleeps. */
class ReplicatedRecordsTest {
  private static final Duration INTERVAL = Duration.ofSeconds(2);
  private static final long SECOND = Duration.ofSeconds(1).toNanos();

  private final Counters counters = new Counters();
  private final FakeStore store = new FakeStore();
  private final List<String> heard = new ArrayList<>();
  private long now = 1_000 * SECOND;
  private ReplicatedRecords records;

  @BeforeEach
  void create() {
    records = new ReplicatedRecords("me", counters, INTERVAL, () -> now);
    records.addListener((key, member) -> heard.add(key + "@" + member));
  }

  @Test
  void putOwn_beforeTheCache_isStoredAtOnce_andPushedWhenItIsAttached() {
    assertThat(records.putOwn("rollout/a@1", bytes("running"))).isEqualTo(PutResult.STORED);
    assertThat(heard).containsExactly("rollout/a@1@me");
    assertThat(text(records.snapshot().get("rollout/a@1").get("me"))).isEqualTo("running");

    records.tick(now); // nothing attached: nothing to do, nothing fails
    records.attach(store);
    records.tick(now);

    assertThat(text((byte[]) store.map.get("me|rollout/a@1"))).isEqualTo("running");
  }

  @Test
  void of_isOneKeysRecords_ownAndPeers_asCopies() {
    attachAndSettle();
    records.putOwn("trust", bytes("mine"));
    records.putOwn("other", bytes("x"));
    arrive("peer|trust", bytes("theirs"));
    arrive("peer|clock", bytes("t=1"));

    Map<String, byte[]> trust = records.of("trust");

    assertThat(trust).containsOnlyKeys("me", "peer");
    assertThat(text(trust.get("me"))).isEqualTo("mine");
    assertThat(text(trust.get("peer"))).isEqualTo("theirs");
    trust.get("me")[0] = 'X';
    assertThat(text(records.of("trust").get("me"))).isEqualTo("mine");
    assertThat(records.of("none")).isEmpty();
    assertThat(new LocalRecords("solo").of("none")).isEmpty();
  }

  @Test
  void putOwn_checksItsLimits_andAnEqualValueIsUnchanged() {
    assertThat(records.putOwn("Bad Key", bytes("x"))).isEqualTo(PutResult.BAD_KEY);
    assertThat(records.putOwn("a|b", bytes("x"))).isEqualTo(PutResult.BAD_KEY);
    assertThat(records.putOwn("big", new byte[MeshRecords.MAX_VALUE_BYTES + 1])).isEqualTo(PutResult.VALUE_TOO_LARGE);
    assertThat(records.putOwn("edge", new byte[MeshRecords.MAX_VALUE_BYTES])).isEqualTo(PutResult.STORED);
    assertThat(records.putOwn("edge", new byte[MeshRecords.MAX_VALUE_BYTES])).isEqualTo(PutResult.UNCHANGED);
    for (int i = 1; i < MeshRecords.MAX_RECORDS_PER_MEMBER; i++) {
      assertThat(records.putOwn("k" + i, bytes("v"))).isEqualTo(PutResult.STORED);
    }
    assertThat(records.putOwn("one-more", bytes("v"))).isEqualTo(PutResult.TOO_MANY_RECORDS);
    assertThat(records.putOwn("k1", bytes("changed"))).isEqualTo(PutResult.STORED);
    assertThat(records.snapshot()).hasSize(MeshRecords.MAX_RECORDS_PER_MEMBER);
  }

  @Test
  void putAndRemove_withTheCache_writeThrough() {
    attachAndSettle();
    records.putOwn("a", bytes("1"));
    records.putOwn("a", bytes("2"));
    assertThat(text((byte[]) store.map.get("me|a"))).isEqualTo("2");

    records.removeOwn("a");
    records.removeOwn("never-held"); // nothing to do

    assertThat(store.map).containsEntry("me|a", ReplicatedRecords.TOMBSTONE);
    assertThat(records.snapshot()).isEmpty();
    assertThat(heard).containsExactly("a@me", "a@me", "a@me");
  }

  @Test
  void idle_writesNothing() {
    records.putOwn("a", bytes("1"));
    records.putOwn("b", bytes("2"));
    store.map.put("peer|c", bytes("3"));
    attachAndSettle();
    now += ReplicatedRecords.RECENT_NANOS;
    records.tick(now); // the last round that still counts them as recently changed
    long written = records.writes();

    for (int i = 0; i < 50; i++) {
      now += INTERVAL.toNanos() / 3;
      records.tick(now);
    }

    assertThat(records.writes()).isEqualTo(written);
  }

  @Test
  void aRecentlyChangedRecord_isWrittenAgainEveryRound_untilItIsNoLongerRecent() {
    attachAndSettle();
    now += ReplicatedRecords.RECENT_NANOS;
    records.tick(now);
    records.putOwn("a", bytes("reverted"));
    long afterPut = records.writes();
    // a peer lost that write near a topology change; the local copy has it, and no view change follows
    for (int i = 0; i < 3; i++) {
      now += INTERVAL.toNanos();
      records.tick(now);
    }
    assertThat(records.writes() - afterPut).as("written again at each of 3 rounds").isEqualTo(3);
    now += ReplicatedRecords.RECENT_NANOS;
    records.tick(now);
    long settled = records.writes();
    for (int i = 0; i < 5; i++) {
      now += INTERVAL.toNanos();
      records.tick(now);
    }
    assertThat(records.writes()).as("no longer recent: idle").isEqualTo(settled);
  }

  @Test
  void round_repairsOnlyWhatDiffers_inTheLocalCopy() {
    records.putOwn("a", bytes("1"));
    records.putOwn("b", bytes("2"));
    attachAndSettle();
    now += ReplicatedRecords.RECENT_NANOS; // both changed long ago: a round writes only what differs
    records.tick(now);
    long written = records.writes();
    store.map.put("me|a", bytes("stale")); // a merge brought an old copy back
    store.map.put("me|old", bytes("from a previous incarnation"));

    now += INTERVAL.toNanos();
    records.tick(now);

    assertThat(text((byte[]) store.map.get("me|a"))).isEqualTo("1");
    assertThat(text((byte[]) store.map.get("me|b"))).isEqualTo("2");
    assertThat(store.map).containsEntry("me|old", ReplicatedRecords.TOMBSTONE);
    assertThat(records.writes() - written).isEqualTo(2);
    now += INTERVAL.toNanos();
    records.tick(now);
    assertThat(records.writes() - written).as("a tombstone is not written again").isEqualTo(2);
  }

  @Test
  void watchedOwnRecordsAPeerOverwrote_areHandedOutOnce_byKey_whetherSeenByAnEventOrARound() {
    records.putOwn("a", bytes("1"));
    records.putOwn("b", bytes("2"));
    records.putOwn("c", bytes("3"));
    records.watchOverwrites("a");
    records.watchOverwrites("b");
    attachAndSettle();
    assertThat(records.drainOverwrites("a")).isEmpty();
    store.map.put("me|c", bytes("not watched"));
    records.cacheChanged("me|c", false);

    store.map.put("me|a", bytes("from another site")); // a cross-site backup is written here as a local write
    records.cacheChanged("me|a", true);
    store.map.put("me|a", bytes("1"));
    records.cacheChanged("me|a", true); // this member's own write: not an overwrite
    store.map.put("me|b", bytes("stale"));
    store.map.put("me|a", bytes("again, no event"));
    now += INTERVAL.toNanos();
    records.tick(now);

    assertThat(records.drainOverwrites("a")).extracting(ReplicatedRecordsTest::text)
        .containsExactly("from another site", "again, no event");
    assertThat(records.drainOverwrites("a")).isEmpty();
    assertThat(records.drainOverwrites("b")).as("drained with the others").isEmpty();
    assertThat(records.drainOverwrites("c")).as("not watched: never kept").isEmpty();
    assertThat(text((byte[]) store.map.get("me|a"))).isEqualTo("1");

    for (int i = 0; i < ReplicatedRecords.MAX_OVERWRITES_KEPT + 10; i++) {
      store.map.put("me|a", bytes("v" + i));
      records.cacheChanged("me|a", false);
    }
    List<byte[]> kept = records.drainOverwrites("a");
    assertThat(kept).hasSize(ReplicatedRecords.MAX_OVERWRITES_KEPT);
    assertThat(text(kept.get(kept.size() - 1))).isEqualTo("v" + (ReplicatedRecords.MAX_OVERWRITES_KEPT + 9));
  }

  @Test
  void aRemoteChangeToOwnRecord_isRepairedAtTheNextTick_notAtTheNextRound() {
    records.putOwn("a", bytes("1"));
    attachAndSettle();
    store.map.put("me|a", bytes("stale"));

    records.cacheChanged("me|a", false);
    now += SECOND / 10;
    records.tick(now);

    assertThat(text((byte[]) store.map.get("me|a"))).isEqualTo("1");
  }

  @Test
  void membershipChanged_pushesEverythingOnce_whenItHasSettled() {
    records.putOwn("a", bytes("1"));
    records.putOwn("b", bytes("2"));
    records.removeOwn("b");
    attachAndSettle();
    long written = records.writes();

    records.membershipChanged();
    now += ReplicatedRecords.SETTLE_NANOS / 2;
    records.membershipChanged(); // a second topology change of the same merge
    now += ReplicatedRecords.SETTLE_NANOS / 2 + 1;
    records.tick(now);
    assertThat(records.writes()).as("not settled yet").isEqualTo(written);

    now += ReplicatedRecords.SETTLE_NANOS;
    records.tick(now);
    // the put of a and the remove of b again, although the local copy is right: a peer's may not be
    assertThat(records.writes() - written).isEqualTo(2);
    assertThat(store.log).endsWith("put me|a", "tombstone me|b");
    now += SECOND / 10;
    records.tick(now);
    assertThat(records.writes() - written).isEqualTo(2);
  }

  @Test
  void membershipThatKeepsChanging_stillPushesWithinTheBound() {
    records.putOwn("a", bytes("1"));
    attachAndSettle();
    long written = records.writes();
    long first = now;

    while (now - first < ReplicatedRecords.SETTLE_MAX_NANOS + SECOND) {
      records.membershipChanged();
      now += ReplicatedRecords.SETTLE_NANOS / 2;
      records.tick(now);
    }

    assertThat(records.writes()).isGreaterThan(written);
  }

  @Test
  void peersRecords_areHeard_andBadOnesDroppedAndCountedOnce() {
    attachAndSettle();
    arrive("peer|good", bytes("ok"));
    arrive("peer|Bad Key", bytes("x"));
    arrive("no-separator", bytes("x"));
    arrive("|empty-member", bytes("x"));
    arrive(42, bytes("x"));
    arrive("peer|big", new byte[MeshRecords.MAX_VALUE_BYTES + 1]);
    arrive("peer|text", "not bytes");
    arrive("peer|big", new byte[MeshRecords.MAX_VALUE_BYTES + 1]); // the same again: counted once
    now += INTERVAL.toNanos();
    records.tick(now); // the scan sees them all again: still counted once

    assertThat(heard).containsExactly("good@peer");
    assertThat(records.snapshot()).containsOnlyKeys("good");
    assertThat(counters.snapshot().rejected()).containsExactlyInAnyOrderEntriesOf(Map.of(
        ReplicatedRecords.BAD_KEY, 4L, ReplicatedRecords.TOO_LARGE, 1L, ReplicatedRecords.BAD_VALUE, 1L));

    arrive("peer|good", new byte[MeshRecords.MAX_VALUE_BYTES + 1]); // a valid record replaced by an invalid one
    assertThat(records.snapshot()).isEmpty();
    assertThat(heard).containsExactly("good@peer", "good@peer");
  }

  @Test
  void aPeerOverTheRecordLimit_keepsTheFirstOnes_andTheRestAreCounted() {
    attachAndSettle();
    for (int i = 0; i < MeshRecords.MAX_RECORDS_PER_MEMBER; i++) {
      arrive("flood|k" + i, bytes("v"));
    }
    arrive("flood|one-more", bytes("v"));
    store.map.put("flood|another", bytes("v")); // found by the scan
    arrive("flood|k0", bytes("changed")); // an update of a held one is not over the limit
    now += INTERVAL.toNanos();
    records.tick(now);

    Map<String, Map<String, byte[]>> snapshot = records.snapshot();
    assertThat(snapshot).hasSize(MeshRecords.MAX_RECORDS_PER_MEMBER).doesNotContainKeys("one-more", "another");
    assertThat(text(snapshot.get("k0").get("flood"))).isEqualTo("changed");
    assertThat(counters.snapshot().rejected()).containsEntry(ReplicatedRecords.OVER_LIMIT, 2L);
  }

  @Test
  void aPeersRemoval_isHeard_andOneWithoutAnEvent_onceTheCopyHasSettled() {
    attachAndSettle();
    arrive("peer|a", bytes("1"));
    arrive("left|b", bytes("2"));
    arrive("left|c", bytes("3"));

    store.map.remove("peer|a");
    records.cacheChanged("peer|a", false);
    assertThat(heard).containsExactly("a@peer", "b@left", "c@left", "a@peer");

    store.settled = false; // a fresh copy before its state arrived: what it lacks is not gone
    store.map.remove("left|b");
    now += INTERVAL.toNanos();
    records.tick(now);
    assertThat(records.snapshot()).containsOnlyKeys("b", "c");

    store.settled = true; // a removal that came without an event
    now += INTERVAL.toNanos();
    records.tick(now);
    assertThat(records.snapshot()).containsOnlyKeys("c");
    assertThat(heard).containsExactly("a@peer", "b@left", "c@left", "a@peer", "b@left");
  }

  @Test
  void aPeersTombstone_isARemoval_notABadValue() {
    attachAndSettle();
    arrive("peer|a", bytes("1"));
    arrive("peer|a", ReplicatedRecords.TOMBSTONE);
    arrive("peer|b", ReplicatedRecords.TOMBSTONE);
    now += INTERVAL.toNanos();
    records.tick(now);

    assertThat(records.snapshot()).isEmpty();
    assertThat(heard).containsExactly("a@peer", "a@peer");
    assertThat(counters.snapshot().rejected()).isEmpty();
  }

  @Test
  void aRestartedMembersLeftovers_areTombstoned_andReassertedAfterAChange() {
    store.map.put("me|old", bytes("from before the restart"));
    records.putOwn("kept", bytes("1"));
    attachAndSettle();
    assertThat(store.map).containsEntry("me|old", ReplicatedRecords.TOMBSTONE);

    store.map.put("me|old", bytes("from before the restart")); // a copy that missed the tombstone came back
    records.membershipChanged();
    now += ReplicatedRecords.SETTLE_NANOS;
    records.tick(now);

    assertThat(store.map).containsEntry("me|old", ReplicatedRecords.TOMBSTONE);
    assertThat(records.snapshot()).containsOnlyKeys("kept");
  }

  @Test
  void aChangeOfOwnRecordElsewhere_isNotOfferedAsAPeerRecord() {
    records.putOwn("a", bytes("1"));
    attachAndSettle();
    store.map.put("me|a", bytes("stale"));
    records.cacheChanged("me|a", false);

    assertThat(text(records.snapshot().get("a").get("me"))).isEqualTo("1");
    assertThat(records.snapshot().get("a")).containsOnlyKeys("me");
  }

  @Test
  void detached_putOwnStaysInMemory_andAFreshCacheGetsEverything() {
    records.putOwn("a", bytes("1"));
    attachAndSettle();
    records.detach();
    records.putOwn("b", bytes("2"));
    assertThat(store.map).doesNotContainKey("me|b");

    FakeStore fresh = new FakeStore();
    records.attach(fresh);
    records.tick(now);

    assertThat(fresh.map).containsOnlyKeys("me|a", "me|b");
  }

  @Test
  void ownWritesEchoedBackByThePrimary_doNotStartARepairLoop() {
    // in a replicated cache a write whose primary owner is a peer comes back to the writer as a
    // remote event; a repair that re-wrote recent records on each such event wrote the clock record
    // 500 times a second in the rollout soak
    attachAndSettle();
    store.echo = records;
    records.putOwn("clock", bytes("t=1"));
    long written = records.writes();

    for (int i = 0; i < 50; i++) { // 5 s of ticks
      now += SECOND / 10;
      records.tick(now);
    }

    assertThat(records.writes() - written).as("the rounds' re-writes of a recent record only, about one per %s", INTERVAL)
        .isBetween(2L, 3L);
  }

  @Test
  void anEchoOfAStaleValue_stillAsksForARepair() {
    records.putOwn("a", bytes("1"));
    attachAndSettle();
    now += ReplicatedRecords.RECENT_NANOS;
    records.tick(now);
    store.map.put("me|a", bytes("stale"));
    records.cacheChanged("me|a", false);
    records.cacheChanged("me|never-mine", false); // nothing held, nothing there: no repair needed
    now += SECOND / 10;
    records.tick(now);
    assertThat(text((byte[]) store.map.get("me|a"))).isEqualTo("1");
  }

  @Test
  void writesBeyondTheBurst_waitForTokens_coalescedToTheNewestValue() {
    attachAndSettle();
    long written = records.writes();
    int burst = ReplicatedRecords.WRITE_BURST;
    for (int i = 0; i < burst + 50; i++) {
      records.putOwn("k" + i, bytes("v"));
    }
    assertThat(records.writes() - written).isEqualTo(burst);
    assertThat(records.waiting()).isEqualTo(50);
    String late = "k" + (burst + 10);
    for (int j = 0; j < 20; j++) {
      records.putOwn(late, bytes("v" + j));
    }
    assertThat(records.waiting()).as("one waiting write per key").isEqualTo(50);
    assertThat(store.map).doesNotContainKey("me|" + late);

    now += SECOND / 10; // 10 tokens
    records.tick(now);
    assertThat(records.writes() - written).isEqualTo(burst + 10);
    now += SECOND;
    records.tick(now);

    assertThat(records.waiting()).isZero();
    assertThat(records.writes() - written).as("every key once, the rewritten one too").isEqualTo(burst + 50);
    assertThat(text((byte[]) store.map.get("me|" + late))).isEqualTo("v19");
    assertThat(counters.snapshot().recordWritesDeferred()).isGreaterThanOrEqualTo(50);
  }

  @Test
  void aChangeWaitingForAToken_goesBeforeReassertions() {
    attachAndSettle();
    int burst = ReplicatedRecords.WRITE_BURST;
    for (int i = 0; i < burst; i++) {
      records.putOwn("k" + i, bytes("v"));
    }
    now += ReplicatedRecords.RECENT_NANOS; // tokens full again, records no longer recent
    records.tick(now);
    for (int i = 0; i < burst; i++) {
      records.putOwn("j" + i, bytes("v")); // the burst spent again
    }
    records.membershipChanged();
    now += ReplicatedRecords.SETTLE_NANOS; // 50 tokens: the full push of 400 records mostly waits
    records.tick(now);
    assertThat(records.waiting()).isGreaterThan(300);
    records.removeOwn("k0");
    records.putOwn("k1", bytes("changed"));

    now += SECOND / 50; // 2 tokens
    records.tick(now);

    assertThat(store.map).containsEntry("me|k0", ReplicatedRecords.TOMBSTONE);
    assertThat(text((byte[]) store.map.get("me|k1"))).isEqualTo("changed");
    // the 200 recent records are re-written at every round for 30 s: the budget of those seconds
    long until = now + ReplicatedRecords.RECENT_NANOS + 5 * SECOND;
    while (now < until) {
      now += SECOND / 10;
      records.tick(now);
    }
    assertThat(records.waiting()).isZero();
    assertThat(text((byte[]) store.map.get("me|k1"))).as("not overwritten by an older re-assertion").isEqualTo("changed");
  }

  // --- the check: a peer's copy of our records, compared by hash ---

  @Test
  void aPeersCopyThatDiffersForARound_getsEveryRecordWrittenAgain_thenBacksOffWhileItStillDiffers() {
    attachAndSettle();
    records.putOwn("a", bytes("1"));
    records.putOwn("b", bytes("2"));
    now += ReplicatedRecords.RECENT_NANOS; // old records: rounds no longer write them
    records.tick(now);
    store.log.clear();
    byte[] lostB = ReplicatedRecords.hashOf(Map.of("a", bytes("1")));

    records.checkedBy("peer", lostB);
    now += SECOND;
    records.checkedBy("peer", lostB);
    records.tick(now);
    assertThat(store.log).as("differing for less than a round: a write may be on its way").isEmpty();

    now += SECOND;
    records.checkedBy("peer", lostB);
    records.tick(now);
    assertThat(store.log).containsExactlyInAnyOrder("put me|a", "put me|b");
    assertThat(counters.snapshot().recordRepushes()).isEqualTo(1);

    store.log.clear();
    checkAfter(4, lostB);
    checkAfter(4, lostB);
    assertThat(store.log).as("within 10 s of the last push").isEmpty();
    checkAfter(2, lostB);
    assertThat(store.log).hasSize(2);
    store.log.clear();
    checkAfter(12, lostB);
    checkAfter(2, lostB);
    assertThat(store.log).as("still differing: the next push waits 20 s").isEmpty();

    // once every copy matches, the gap starts over
    checkAfter(0, ReplicatedRecords.hashOf(Map.of("a", bytes("1"), "b", bytes("2"))));
    checkAfter(0, lostB);
    checkAfter(2, lostB);
    assertThat(store.log).hasSize(2);
    assertThat(counters.snapshot().recordRepushes()).isEqualTo(3);
  }

  /** {@code seconds} later, "peer" reports the hash of its copy of our records, then a tick. */
  private void checkAfter(long seconds, byte[] hash) {
    now += seconds * SECOND;
    records.checkedBy("peer", hash);
    records.tick(now);
  }

  @Test
  void aCopyThatMatches_orAnyCheckBeforeTheCache_writesNothing() {
    records.putOwn("a", bytes("1"));
    records.checkedBy("peer", ReplicatedRecords.hashOf(Map.of()));
    now += 5 * SECOND;
    records.checkedBy("peer", ReplicatedRecords.hashOf(Map.of()));
    attachAndSettle(); // the attach pushes what it holds, once
    now += ReplicatedRecords.RECENT_NANOS;
    records.tick(now);
    store.log.clear();
    for (int i = 0; i < 5; i++) {
      records.checkedBy("peer", ReplicatedRecords.hashOf(Map.of("a", bytes("1"))));
      now += 3 * SECOND;
      records.tick(now);
    }
    assertThat(store.log).isEmpty();
    assertThat(counters.snapshot().recordRepushes()).isZero();

    // records changing every second: a copy lagging the writes on their way is not judged
    for (int i = 0; i < 10; i++) {
      records.putOwn("a", bytes("v" + i));
      records.checkedBy("peer", ReplicatedRecords.hashOf(Map.of("a", bytes("v" + (i - 1)))));
      now += SECOND;
      records.tick(now);
    }
    assertThat(counters.snapshot().recordRepushes()).isZero();
  }

  @Test
  void copyHashOf_isTheHashOfAPeersRecordsAsHeldHere_andNoneUntilTheCopyHasItsState() {
    store.settled = false;
    records.attach(store);
    arrive("peer|a", bytes("1"));
    arrive("peer|b", bytes("2"));
    assertThat(records.copyHashOf("peer")).isNull();

    store.settled = true;
    assertThat(records.copyHashOf("peer")).isEqualTo(ReplicatedRecords.hashOf(Map.of("b", bytes("2"), "a", bytes("1"))));
    assertThat(records.copyHashOf("nobody")).isEqualTo(ReplicatedRecords.hashOf(Map.of()));
    arrive("peer|a", bytes("9")); // the hash is kept until the member's records change here
    assertThat(records.copyHashOf("peer")).isEqualTo(ReplicatedRecords.hashOf(Map.of("b", bytes("2"), "a", bytes("9"))));
    arrive("peer|b", ReplicatedRecords.TOMBSTONE);
    assertThat(records.copyHashOf("peer")).isEqualTo(ReplicatedRecords.hashOf(Map.of("a", bytes("9"))));
    assertThat(ReplicatedRecords.hashOf(Map.of("a", bytes("1")))).isNotEqualTo(ReplicatedRecords.hashOf(Map.of("a", bytes("2"))))
        .isNotEqualTo(ReplicatedRecords.hashOf(Map.of("b", bytes("1"))));
  }

  private void attachAndSettle() {
    records.attach(store);
    records.tick(now);
  }

  private void arrive(Object cacheKey, Object value) {
    store.map.put(cacheKey, value);
    records.cacheChanged(cacheKey, false);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static final class FakeStore implements ReplicatedRecords.Store {
    final Map<Object, Object> map = new ConcurrentHashMap<>();
    final List<String> log = new ArrayList<>();
    volatile boolean settled = true;
    /** When set, each write comes back as a remote event, as from a primary owner elsewhere. */
    volatile ReplicatedRecords echo;

    @Override
    public boolean settled() {
      return settled;
    }

    @Override
    public Object get(String cacheKey) {
      return map.get(cacheKey);
    }

    @Override
    public void forEach(BiConsumer<Object, Object> entry) {
      map.forEach(entry);
    }

    @Override
    public void put(String cacheKey, byte[] value) {
      log.add("put " + cacheKey);
      map.put(cacheKey, value);
      if (echo != null) {
        echo.cacheChanged(cacheKey, false);
      }
    }

    @Override
    public void tombstone(String cacheKey) {
      log.add("tombstone " + cacheKey);
      map.put(cacheKey, ReplicatedRecords.TOMBSTONE);
      if (echo != null) {
        echo.cacheChanged(cacheKey, false);
      }
    }
  }
}
